"""``{% load portal_language %}``: the portal's words about language."""

from django import template

from portal.selectors import questionnaire_language_note as note_for

register = template.Library()


@register.simple_tag
def questionnaire_language_note(instrument: str) -> str:
    """``{% questionnaire_language_note spec.code as note %}``: the note for a questionnaire
    shown in English to a patient whose language is another ("" otherwise)."""
    return note_for(instrument)
