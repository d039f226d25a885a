"""The portal in the patient's language (issue 23, point 6): every portal page for a Spanish
patient in Spanish, the same pages for an English patient as before, the pages before a link is
exchanged in the browser's language, and staff pages in the clinic's language whatever portal
request the same thread served before."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from patients.models import Language, PortalLink
from phases.models import Phase, RelapsePreventionPlan
from sessions.homework import homework_entry_add
from tests.factories import AssignmentFactory, RelationshipFactory, SessionFactory
from tests.form_keys import key_on

from .links import open_portal

SPANISH_MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
SPANISH_WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]

# The English chrome of the layouts every portal page shares (base.html, page.html): none of
# it on a Spanish patient's page, whoever's template the page's own content is.
ENGLISH_CHROME = [
    "Skip to main content",
    "If you feel unsafe or in crisis",
    "Leave (on a shared device)",
    '<nav aria-label="Your therapy"',
    ">Appointments</a>",
    ">Homework</a>",
]
SPANISH_CHROME = [
    "Ir al contenido principal",
    "Si no se siente a salvo o está en una crisis",
    "Salir (en un dispositivo compartido)",
    ">Inicio</a>",
    ">Citas</a>",
    ">Tareas</a>",
]
# Per page: (English sentences that page's own template says, their Spanish).
PAGE_WORDS = {
    "home": (
        ["Your next appointment", "My progress", "What we agreed", "About this therapy"],
        ["Su próxima cita", "Mi evolución", "Lo que acordamos", "Sobre esta terapia"],
    ),
    "homework": (
        ["Your homework", "Tell us how it went", "Done before"],
        ["Sus tareas", "Cuéntenos cómo fue", "Hechas antes"],
    ),
    "homework_detail": (
        ["All homework", "What you wrote", "What I said", "Save this entry", "I did it"],
        ["Todas las tareas", "Lo que escribió", "Qué dije", "Guardar esta entrada", "Lo he hecho"],
    ),
    "homework_entry": (
        ["Change an entry", "How they responded (optional)", "Save my changes"],
        ["Cambiar una entrada", "Cómo respondió la otra persona (opcional)", "Guardar mis cambios"],
    ),
    "questionnaire": (
        ["Mood questionnaire", "Question 3 of 9", "Send my answers", "Due before your next"],
        [
            "Cuestionario sobre el estado de ánimo",
            "Pregunta 3 de 9",
            "Enviar mis respuestas",
            "Para antes de su próxima sesión",
        ],
    ),
    "agreed": (
        ["What we agreed", "How we understand what is happening", "Your sessions"],
        ["Lo que acordamos", "Cómo entendemos lo que está pasando", "Sus sesiones"],
    ),
    "about_ipt": (
        ["Interpersonal psychotherapy (IPT) is a short talking therapy", "The four parts of IPT"],
        ["La terapia interpersonal", "Las cuatro partes de la terapia interpersonal"],
    ),
    "progress": (
        ["My progress", "What the scores mean", "A score is not a diagnosis."],
        ["Mi evolución", "Qué significan las puntuaciones", "Una puntuación no es un diagnóstico."],
    ),
    "sessions": (
        ["Your appointments", "Add to my calendar", "50 minutes", "Next: session 1 of 12"],
        ["Sus citas", "Añadir a mi calendario", "50 minutos", "Próxima: sesión 1 de 12"],
    ),
    "plan": (
        ["Your plan for staying well", "Early warning signs", "People I can turn to"],
        ["Su plan para mantenerse bien", "Primeras señales de alerta", "Personas a las que"],
    ),
    "thanks": (
        ["If you are thinking about hurting yourself", "Back to the start", "Thank you"],
        ["Si está pensando en hacerse daño", "Volver al inicio", "Gracias"],
    ),
    "left": (
        ["You have left", "To come back, open your personal link again."],
        ["Ha salido", "Para volver, abra de nuevo su enlace personal."],
    ),
}


def _speaking(patient, language):
    patient.language = language
    patient.save(update_fields=["language"])


def _portal_pages(client, course) -> dict[str, str]:
    """Every page of an open portal session, by name, as the patient's browser gets it."""
    course.phase = Phase.TERMINATION
    course.planned_sessions = 12
    course.save()
    plan = RelapsePreventionPlan.objects.create(
        clinic=course.clinic,
        course=course,
        warning_signs="Stopping seeing friends",
        coping_strategies="Evening walks",
        if_symptoms_return="Book a session",
    )
    plan.supports.add(RelationshipFactory(patient=course.patient, name="Rosa"))
    session = SessionFactory(course=course, duration_minutes=50)
    assignment = AssignmentFactory(course=course)
    entry = homework_entry_add(
        assignment=assignment, values={"said": "I asked Rosa to call on Sundays", "feeling": 6}
    )
    pages = {}
    for name, url in [
        ("home", reverse("portal:home")),
        ("sessions", reverse("portal:sessions")),
        ("homework", reverse("portal:homework")),
        ("homework_detail", reverse("portal:homework_detail", args=[assignment.pk])),
        (
            "homework_entry",
            reverse("portal:homework_entry_change", args=[assignment.pk, entry.pk]),
        ),
        ("questionnaire", reverse("portal:questionnaire", args=["phq9"])),
        ("plan", reverse("portal:plan")),
        ("agreed", reverse("portal:agreed")),
        ("about_ipt", reverse("portal:about_ipt")),
        ("progress", reverse("portal:progress")),
    ]:
        response = client.get(url)
        assert response.status_code == 200, name
        pages[name] = response.content.decode()
    # PHQ-9 with item 9 above zero: the thank-you page with the crisis resources.
    answers = {f"item_{n}": 1 for n in range(1, 10)}
    sent = client.post(
        reverse("portal:questionnaire", args=["phq9"]),
        {"form_key": key_on(pages["questionnaire"]), **answers},
    )
    assert sent.status_code == 302
    pages["thanks"] = client.get(sent["Location"]).content.decode()
    pages["left"] = client.post(reverse("portal:leave")).content.decode()
    pages["session_start"] = timezone.localtime(session.scheduled_start, course.clinic.tz)
    return pages


def test_every_portal_page_is_in_spanish_for_a_spanish_patient(portal_link, course):
    _speaking(course.patient, Language.SPANISH)
    client = Client()
    assert open_portal(client, portal_link[1]).status_code == 302
    pages = _portal_pages(client, course)
    start = pages.pop("session_start")

    for name, body in pages.items():
        assert '<html lang="es">' in body, name
        for english in ENGLISH_CHROME:
            assert english not in body, (name, english)
        if name != "left":  # the page after leaving has no menu
            for spanish in SPANISH_CHROME:
                assert spanish in body, (name, spanish)
    for name, (english, spanish) in PAGE_WORDS.items():
        for words in english:
            assert words not in pages[name], (name, words)
        for words in spanish:
            assert words in pages[name], (name, words)
    day = (
        f"{SPANISH_WEEKDAYS[start.weekday()]} {start.day} de "
        f"{SPANISH_MONTHS[start.month - 1]} de {start.year}, {start:%H:%M}"
    )
    assert day in pages["sessions"]
    # Every day and month reads the Spanish way, "15 de diciembre", on every page.
    months = "|".join(SPANISH_MONTHS)
    for name, body in pages.items():
        assert not re.search(rf"\b\d{{1,2}} ({months})\b", body), name
    assert re.search(rf"\b\d{{1,2}} de ({months})\b", pages["home"])  # the next appointment
    assert re.search(rf"\b\d{{1,2}} de ({months})\b", pages["homework"])  # a due day
    # The validated questionnaire keeps its English wording, and says why in Spanish.
    assert "Little interest or pleasure in doing things" in pages["questionnaire"]
    assert "Este cuestionario aparece en inglés" in pages["questionnaire"]
    # The crisis box names the clinic's numbers in Spanish sentences.
    assert "Ya hemos avisado de sus respuestas a su terapeuta" in pages["thanks"]
    assert "(servicios de emergencia)" in pages["thanks"]


def test_every_portal_page_is_as_before_for_an_english_patient(portal_client, course):
    pages = _portal_pages(portal_client, course)
    start = pages.pop("session_start")

    for name, body in pages.items():
        assert '<html lang="en-gb">' in body, name
        assert "Skip to main content" in body, name
        assert "If you feel unsafe or in crisis" in body, name
        for spanish in SPANISH_CHROME:
            assert spanish not in body, (name, spanish)
    for name, (english, spanish) in PAGE_WORDS.items():
        for words in english:
            assert words in pages[name], (name, words)
        for words in spanish:
            assert words not in pages[name], (name, words)
    assert f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}" in pages["sessions"]
    assert "We have told your therapist about your answers now." in pages["thanks"]
    assert "This questionnaire is shown in English" not in pages["questionnaire"]


def test_the_homework_answer_is_confirmed_in_the_patients_language(portal_link, course):
    _speaking(course.patient, Language.SPANISH)
    client = Client()
    open_portal(client, portal_link[1])
    assignment = AssignmentFactory(course=course)
    url = reverse("portal:homework_detail", args=[assignment.pk])

    refused = client.post(url, {"reflection": "Fue bien."}).content.decode()
    assert "Indique si ha hecho esta tarea." in refused
    assert "Fue bien." in refused  # what was typed is kept
    done = client.post(url, {"status": "done", "reflection": "Fue bien."}, follow=True)
    assert "Gracias. Su terapeuta lo verá." in done.content.decode()


def _expired(link: PortalLink) -> None:
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


@pytest.mark.parametrize(
    ("accept", "lang", "words"),
    [
        ("es-ES,es;q=0.9,en;q=0.5", "es", "Abrir mi página"),
        ("en-GB,en;q=0.9", "en-gb", "Open my page"),
        ("fr-FR,de;q=0.8", "en-gb", "Open my page"),  # not one of ours: the default
    ],
)
def test_the_landing_page_follows_the_browsers_language(portal_link, course, accept, lang, words):
    # The patient's own language is not given away before the button is pressed.
    _speaking(course.patient, Language.SPANISH if lang != "es" else Language.ENGLISH)
    body = Client(HTTP_ACCEPT_LANGUAGE=accept).get(urlsplit(portal_link[1]).path)
    assert body.status_code == 200
    assert f'<html lang="{lang}">' in body.content.decode()
    assert words in body.content.decode()


def test_the_pages_without_a_patient_follow_the_browsers_language(portal_link, settings):
    link, url = portal_link
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    english = Client(HTTP_ACCEPT_LANGUAGE="en")

    unknown = reverse("portal:exchange", kwargs={"token": "x" * 40})
    assert "No hemos podido abrir esta página" in spanish.get(unknown).content.decode()
    assert "We could not open this page" in english.get(unknown).content.decode()
    nothing = spanish.get(reverse("portal:home"))  # no portal session: not found
    assert nothing.status_code == 404 and '<html lang="es">' in nothing.content.decode()

    settings.PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE = 0
    too_many = spanish.get(unknown)
    assert too_many.status_code == 429
    assert "Espere un momento, por favor" in too_many.content.decode()
    assert "Please wait a moment" in Client(HTTP_ACCEPT_LANGUAGE="en").get(unknown).content.decode()

    _expired(link)
    expired = spanish.get(urlsplit(url).path)
    assert expired.status_code == 410
    assert "Este enlace ha caducado" in expired.content.decode()
    assert "This link has expired" not in expired.content.decode()
    assert "This link has expired" in english.get(urlsplit(url).path).content.decode()
    assert "Obtener un enlace nuevo" in expired.content.decode()

    lost = spanish.get(reverse("portal:lost_link")).content.decode()
    assert '<html lang="es">' in lost
    assert "¿Ha perdido su enlace?" in lost and "Envíenme un enlace nuevo" in lost
    assert "Lost your link?" not in lost
    assert "Send me a new link" in english.get(reverse("portal:lost_link")).content.decode()
    asked = spanish.get(reverse("portal:lost_link_asked")).content.decode()
    assert "Revise sus mensajes" in asked and "Check your messages" not in asked
    assert "Check your messages" in english.get(reverse("portal:lost_link_asked")).content.decode()


def test_a_staff_page_after_a_spanish_portal_page_is_in_english(
    portal_link, course, therapist_client
):
    # The test client serves both in this one thread, as a worker thread serves requests.
    _speaking(course.patient, Language.SPANISH)
    patient_browser = Client()
    open_portal(patient_browser, portal_link[1])
    assert "Sus citas" in patient_browser.get(reverse("portal:sessions")).content.decode()
    assert translation.get_language() == settings.LANGUAGE_CODE

    staff_page = therapist_client.get(reverse("patients:detail", args=[course.patient.pk]))
    assert staff_page.status_code == 200
    body = staff_page.content.decode()
    assert "Spanish (español)" in body  # the patient's language, on their page
    assert 'lang="en' in body and 'lang="es"' not in body
    # A Spanish browser on a staff page changes nothing either.
    home = therapist_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es")
    assert translation.get_language() == settings.LANGUAGE_CODE
    assert 'lang="es"' not in home.content.decode()


def test_the_language_is_restored_when_a_portal_view_fails(portal_link, course, monkeypatch):
    _speaking(course.patient, Language.SPANISH)
    client = Client(raise_request_exception=False)
    open_portal(client, portal_link[1])

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("portal.selectors.portal_upcoming_sessions", broken)
    assert client.get(reverse("portal:sessions")).status_code == 500
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_a_staff_browser_following_a_link_is_told_in_english(portal_link, therapist_client):
    response = therapist_client.get(urlsplit(portal_link[1]).path, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 403
    assert "You are signed in as a member of staff" in response.content.decode()
