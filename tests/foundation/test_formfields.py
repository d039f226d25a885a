"""ipt_clinic/formfields.py, the note form's field renderer, gives the markup of crispy-forms'
bootstrap5 pack: the same elements, attributes and text, element by element (only the blank
space between tags may differ), for every kind of field, unbound and with errors, and for
every field the note form shows in each phase."""

from html.parser import HTMLParser

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.template import Context, Template

from ipt_clinic.formfields import render_field


class _Events(HTMLParser):
    """Start tags (attributes as a dict, classes as a list), end tags and text with its runs
    of blank space collapsed; a textarea's text is kept exactly."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events = []
        self._raw = False

    def handle_starttag(self, tag, attrs):
        values = {}
        for name, value in attrs:
            if name == "class":
                value = tuple((value or "").split())
            values[name] = value
        self.events.append(("start", tag, tuple(sorted(values.items()))))
        self._raw = tag == "textarea"

    def handle_endtag(self, tag):
        self.events.append(("end", tag))
        self._raw = False

    def handle_data(self, data):
        text = data if self._raw else " ".join(data.split())
        if text:
            self.events.append(("text", text))


def _events(html: str) -> list:
    parser = _Events()
    parser.feed(str(html))
    parser.close()
    return parser.events


class Everything(forms.Form):
    title = forms.CharField(max_length=50, help_text="Shown to the patient <em>as is</em>.")
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Notes & <more>"
    )
    progress = forms.IntegerField(min_value=0, max_value=10, required=False)
    email = forms.EmailField(required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), required=False)
    level = forms.ChoiceField(
        choices=[("", "— not yet recorded —"), ("low", "Low"), ("high", "High <3")],
        required=False,
        help_text="Required on every note.",
    )
    grouped = forms.ChoiceField(
        choices=[("Near", [("a", "A"), ("b", "B")]), ("Far", [("c", "C")])],
    )
    kinds = forms.MultipleChoiceField(
        choices=[("x", "X"), ("y", "Y & Z")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Tick all that apply.",
    )
    who = forms.ChoiceField(
        choices=[("patient", "The patient"), ("clinic", "The clinic")],
        widget=forms.RadioSelect,
    )
    agree = forms.BooleanField(help_text="Confirm")
    optional_box = forms.BooleanField(required=False)
    styled = forms.CharField(widget=forms.TextInput(attrs={"class": "font-monospace"}))
    locked = forms.CharField(disabled=True, required=False, initial="fixed")
    secret = forms.CharField(widget=forms.PasswordInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, initial=3)
    unlabelled = forms.CharField(label="", required=False)

    def clean(self):
        raise forms.ValidationError("Something about the whole form <b>went wrong</b>.")


BAD = {
    "title": "",
    "notes": "line one\nline <two>",
    "progress": "11",
    "email": "not an address",
    "day": "yesterday",
    "level": "nope",
    "grouped": "z",
    "kinds": ["x", "w"],
    "who": "",
    "styled": "",
    "version": "3",
}
GOOD_INITIAL = {"level": "high", "kinds": ["y"], "who": "clinic", "grouped": "c", "notes": "a"}


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda: Everything(), id="unbound"),
        pytest.param(lambda: Everything(initial=GOOD_INITIAL), id="initial"),
        pytest.param(lambda: Everything(BAD), id="errors"),
        pytest.param(lambda: Everything(auto_id=False), id="no-ids"),
        pytest.param(lambda: Everything(prefix="p"), id="prefix"),
        pytest.param(lambda: Everything(BAD, auto_id="back_%s"), id="own-ids"),
    ],
)
def test_each_field_is_what_crispy_renders(form):
    form = form()
    form.is_valid()
    for bound in form:
        ours = _events(render_field(bound))
        theirs = _events(as_crispy_field(bound))
        assert ours == theirs, bound.name


def test_errors_are_tied_to_their_field_for_assistive_technology():
    form = Everything(BAD)
    form.is_valid()
    html = str(render_field(form["progress"]))
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_progress_error"' in html
    assert '<div id="id_progress_error" class="invalid-feedback">' in html
    html = str(render_field(form["level"]))
    assert 'aria-describedby="id_level_helptext id_level_error"' in html
    assert 'id="id_level_helptext"' in html


def test_the_template_filter():
    form = Everything(BAD)
    form.is_valid()
    out = Template("{% load formfields %}{{ form.title|bs5_field }}").render(
        Context({"form": form})
    )
    assert _events(out) == _events(as_crispy_field(form["title"]))


def test_an_unknown_widget_goes_to_crispy():
    class WithFile(forms.Form):
        upload = forms.FileField()
        when = forms.SplitDateTimeField()

    form = WithFile()
    for bound in form:
        assert str(render_field(bound)) == str(as_crispy_field(bound))


def test_labels_and_errors_are_escaped_but_help_text_is_markup():
    form = Everything(BAD)
    form.is_valid()
    html = str(render_field(form["notes"]))
    assert "Notes &amp; &lt;more&gt;" in html
    assert "line &lt;two&gt;" in html
    assert "<em>as is</em>" in str(render_field(form["title"]))


def _note_forms(course, therapist, phase, data=None):
    """The forms of the note page (tests the view's own helpers: what it renders) for a
    session held an hour ago in ``phase``, with a goal and a homework to review."""
    from datetime import timedelta

    from django.utils import timezone

    from sessions import services
    from sessions.views import _contract_form, _note_form
    from tests.factories import AssignmentFactory, GoalFactory, ProblemAreaFactory, SessionFactory

    course.phase = phase
    course.save()
    area = ProblemAreaFactory(course=course)
    GoalFactory(problem_area=area)
    AssignmentFactory(course=course)
    session = SessionFactory(course=course, scheduled_start=timezone.now() - timedelta(hours=1))
    note = services.note_start(session=session, by=therapist)
    note.session = session
    form = _note_form(note, data)
    contract = _contract_form(note, data)
    return form, contract


def _note_page_fields(form, contract) -> list:
    """Every field note_form.html renders through ``bs5_field``, in its order."""
    return [
        *form.phase_bound_fields(),
        *(contract.visible_fields() if contract else []),
        *form.goal_bound_fields(),
        *form.homework_bound_fields(),
        *form.common_bound_fields(),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("phase", ["initial", "social", "problem_solving", "termination"])
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "errors"])
def test_each_field_of_the_note_form_is_what_crispy_renders(course, therapist, phase, bound):
    # Sent with a bad version and a risk level that is no choice: the page shows errors.
    data = {"version": "x", "risk_level": "nope", "course-planned_sessions": "-1"}
    form, contract = _note_forms(course, therapist, phase, data if bound else None)
    if bound:
        form.is_valid()
        if contract:
            contract.is_valid()
    fields = _note_page_fields(form, contract)
    assert len(fields) > 5
    assert not bound or any(field.errors for field in fields)
    for field in fields:
        assert _events(render_field(field)) == _events(as_crispy_field(field)), field.name


def _crispy_form(form) -> str:
    from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form

    return as_crispy_form(form)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda: Everything(), id="unbound"),
        pytest.param(lambda: Everything(BAD), id="errors"),
        pytest.param(lambda: Everything(BAD, auto_id="back_%s"), id="own-ids"),
    ],
)
def test_a_whole_form_is_what_crispy_renders(form):
    from ipt_clinic.formfields import render_form

    form = form()
    form.is_valid()
    assert _events(render_form(form)) == _events(_crispy_form(form))


def _phase_forms(course, data=None):
    """The course page's phase forms, as its view makes them."""
    from phases.forms import AdvanceForm, DropOutForm, MoveBackForm

    return [
        AdvanceForm(data, initial={"expected_phase": course.phase}),
        MoveBackForm(data, course=course, initial={"expected_phase": course.phase}),
        DropOutForm(data),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "errors"])
def test_the_course_pages_forms_are_what_crispy_renders(course, bound):
    course.phase = "problem_solving"
    course.save()
    data = {"expected_phase": "nope", "to_phase": "completed", "reason": ""}
    for form in _phase_forms(course, data if bound else None):
        if bound:
            form.is_valid()
            form.add_error(None, "The course has already moved on <now>.")
        html = Template("{% load formfields %}{{ form|bs5_form }}").render(Context({"form": form}))
        assert _events(html) == _events(_crispy_form(form)), type(form).__name__
        assert not bound or "alert-danger" in html


class Hidden(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, initial=3)
    phase = forms.CharField(widget=forms.HiddenInput, required=False)
    quoted = forms.CharField(widget=forms.HiddenInput(attrs={"data-x": 'a"b'}), initial='x"<&>')
    own_id = forms.CharField(widget=forms.HiddenInput(attrs={"id": "mine"}), required=False)
    many = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.MultipleHiddenInput, required=False
    )
    with_initial = forms.CharField(show_hidden_initial=True, widget=forms.HiddenInput)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda: Hidden(), id="unbound"),
        pytest.param(lambda: Hidden(initial={"phase": "social", "many": ["a"]}), id="initial"),
        pytest.param(lambda: Hidden({"version": "x", "phase": "a&b", "many": ["b"]}), id="bound"),
        pytest.param(lambda: Hidden(auto_id=False), id="no-ids"),
        pytest.param(lambda: Hidden(prefix="p", auto_id="back_%s"), id="prefix"),
    ],
)
def test_a_hidden_field_is_what_django_renders(form):
    form = form()
    form.is_valid()
    for bound in form:
        assert str(render_field(bound)) == str(bound), bound.name
