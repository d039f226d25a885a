import pytest


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_database_down")
def test_it_answers_503_with_retry_after_when_the_database_cannot_be_reached(client):
    client.raise_request_exception = False
    response = client.get("/needs-db/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"try again" in response.content


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_database_down")
def test_a_database_lost_before_the_session_is_saved_answers_503_not_400(client):
    # Django's session middleware answers 400 when a session's update fails; while the
    # database restarts that is an outage, and the user is asked to try again.
    from django.db import connections

    session = client.session
    session["first_page"] = "home"
    session.save()
    default = connections["default"]
    client.raise_request_exception = False
    try:
        response = client.get("/db-goes-away/")
    finally:
        connections["default"].close()
        connections["default"] = default
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_database_down")
def test_it_still_answers_500_for_other_errors(client, settings):
    def broken_view(request):
        raise RuntimeError("a bug, not an outage")

    from django.urls import path

    import tests.urls_database_down as conf

    conf.urlpatterns.append(path("bug/", broken_view))
    try:
        client.raise_request_exception = False
        assert client.get("/bug/").status_code == 500
    finally:
        conf.urlpatterns.pop()
