"""Questionnaires in another language only from a validated translation kept in the repository;
otherwise in English, with a note in the patient's language (issue 23, point 6)."""

from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from patients.models import Language
from portal.selectors import questionnaire_language_note
from sessions import scoring
from sessions.scoring import GAD7, PHQ9, instrument_language

from .links import open_portal

NOTE_ES = "Este cuestionario aparece en inglés porque sus preguntas se han comprobado en inglés"


def test_a_spanish_reader_gets_the_questionnaires_in_english_with_a_note():
    assert instrument_language("phq9", "es") == "en"
    assert instrument_language("gad7", "es") == "en"
    for instrument in ("phq9", "gad7"):
        assert questionnaire_language_note(instrument, "es").startswith(NOTE_ES)


def test_an_english_reader_gets_no_note():
    assert instrument_language("phq9", "en-gb") == "en-gb"
    assert questionnaire_language_note("phq9", "en-gb") == ""
    assert questionnaire_language_note("gad7", "en") == ""


def test_a_validated_translation_kept_here_is_shown_without_a_note(monkeypatch):
    monkeypatch.setitem(scoring.VALIDATED_TRANSLATIONS, ("phq9", "es"), PHQ9)
    assert instrument_language("phq9", "es") == "es"
    assert questionnaire_language_note("phq9", "es") == ""
    assert questionnaire_language_note("gad7", "es").startswith(NOTE_ES)


def test_the_template_tag_speaks_the_active_language():
    template = Template(
        "{% load portal_language %}{% questionnaire_language_note code as note %}"
        "{% if note %}<p>{{ note }}</p>{% endif %}"
    )
    with translation.override("es"):
        assert NOTE_ES in template.render(Context({"code": "gad7"}))
    with translation.override("en-gb"):
        assert template.render(Context({"code": "gad7"})) == ""


def test_a_spanish_patients_questionnaire_keeps_the_validated_english_wording(portal_link, course):
    course.patient.language = Language.SPANISH
    course.patient.save()
    client = Client()
    open_portal(client, portal_link[1])
    for instrument, spec in (("phq9", PHQ9), ("gad7", GAD7)):
        body = client.get(reverse("portal:questionnaire", args=[instrument])).content.decode()
        assert '<html lang="es">' in body
        for item in spec.items:
            assert item in body
        assert "Not at all" in body and "Nearly every day" in body
