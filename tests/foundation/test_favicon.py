"""The tab icon: every staff and portal page names it, and the app serves it itself."""

from django.contrib.staticfiles import finders
from django.urls import reverse


def test_the_login_page_and_a_portal_page_name_the_served_icon(client):
    for url in (reverse("accounts:login"), reverse("portal:lost_link")):
        page = client.get(url).content.decode()
        assert 'rel="icon"' in page and "img/favicon.svg" in page
    found = finders.find("img/favicon.svg")
    assert found is not None
    with open(found, encoding="utf-8") as icon:
        text = icon.read()
    assert text.startswith("<svg") and "IPT" not in text  # nothing on a shared screen's tab
