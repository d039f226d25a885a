"""Bootstrap 5 form fields rendered in Python: the markup of crispy-forms' bootstrap5
``field.html`` (``{{ field|as_crispy_field }}``), without its dozen template includes per
field, and of a whole form as ``{{ form|crispy }}`` writes one without a FormHelper
(``bs5_form``). Used by two pages only, the session note form
(templates/sessions/note_form.html) and the course page's phase forms
(templates/phases/course.html); every other form is rendered by crispy-forms itself.

Why those pages: the note page renders a dozen fields and more, and through crispy its
Python time doubled in ``make bench`` (about 2.1 times at p50, A/B in one run on the same
machine), putting its p95 at the 25-ms target of a note page. The course page renders its
move-back form (and, with criteria unmet, the advance form) on every visit, and through
crispy's templates those were about a twentieth of the page's template time while the page
missed its 50-ms target; the other forms showed no measurable cost and use crispy.

The same elements, classes, ids and attributes come out as crispy's (label or legend, the
asterisk of a required field, help text with its ``_helptext`` id, errors in
``invalid-feedback`` with the ``_error`` id that ``aria-describedby`` names, ``is-invalid``
and ``aria-invalid``), only without crispy's runs of blank space between tags;
tests/foundation/test_formfields.py compares the two renderings element by element, for
every field of the note form in each phase too. Widgets are rendered from Django's own
``get_context()`` (values, ``required``, ``aria-*``), formatted here the way Django's widget
templates format them. A field whose widget this module does not know (a file input, a
multi-widget, any widget with its own template) is handed to crispy-forms unchanged.

In a template: ``{% load formfields %}``, then ``{{ form.field|bs5_field }}`` or
``{{ form|bs5_form }}``.
"""

from __future__ import annotations

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Widgets rendered here, by the template Django would render them with: a subclass with a
# template of its own is not one of these and goes to crispy-forms.
_INPUT_TEMPLATES = {
    "django/forms/widgets/hidden.html",
    "django/forms/widgets/text.html",
    "django/forms/widgets/number.html",
    "django/forms/widgets/email.html",
    "django/forms/widgets/url.html",
    "django/forms/widgets/tel.html",
    "django/forms/widgets/password.html",
    "django/forms/widgets/date.html",
    "django/forms/widgets/time.html",
    "django/forms/widgets/datetime.html",
    "django/forms/widgets/search.html",
    "django/forms/widgets/color.html",
    "django/forms/widgets/checkbox.html",
}
_TEXTAREA = "django/forms/widgets/textarea.html"
_SELECT = "django/forms/widgets/select.html"
_SELECT_OPTION = "django/forms/widgets/select_option.html"
_CHOICE_TEMPLATES = {
    "django/forms/widgets/checkbox_select.html",
    "django/forms/widgets/radio.html",
}


def _attrs(attrs: dict) -> str:
    """Django's ``django/forms/widgets/attrs.html``: `` name="value"`` for each attribute,
    the bare name for True, nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


def _widget_html(widget, context: dict) -> str | None:
    """The widget's markup from its context, as its Django template would write it; None for
    a widget that is not one of the known ones."""
    w = context["widget"]
    name = conditional_escape(w["name"])
    template_name = w["template_name"]
    if template_name in _INPUT_TEMPLATES:
        value = w["value"]
        value_attr = "" if value is None else f' value="{conditional_escape(str(value))}"'
        return f'<input type="{conditional_escape(w["type"])}" name="{name}"{value_attr}{_attrs(w["attrs"])}>'
    if template_name == _TEXTAREA:
        value = w["value"]
        text = conditional_escape(value) if value else ""
        return f'<textarea name="{name}"{_attrs(w["attrs"])}>\n{text}</textarea>'
    if template_name == _SELECT and widget.option_template_name == _SELECT_OPTION:
        parts = [f'<select name="{name}"{_attrs(w["attrs"])}>']
        for group_name, options, _index in w["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
    return None


def _known(widget) -> bool:
    name = getattr(widget, "template_name", None)
    if name in _INPUT_TEMPLATES or name == _TEXTAREA:
        return True
    if name == _SELECT:
        return widget.option_template_name == _SELECT_OPTION
    return name in _CHOICE_TEMPLATES and isinstance(widget, forms.RadioSelect)


def _crispy_class(widget, extra: str) -> str:
    """The class crispy's ``{% crispy_field %}`` gives the widget: its own classes, the
    widget's class name in lower case, then ``extra``."""
    class_name = widget.__class__.__name__.lower()
    css_class = widget.attrs.get("class", "")
    if css_class:
        if css_class.find(class_name) == -1:
            css_class += f" {class_name}"
    else:
        css_class = class_name
    present = css_class.split()
    for name in extra.split():
        if name not in present:
            css_class += f" {name}"
            present.append(name)
    return css_class


def _widget(bf: BoundField, extra_class: str) -> str:
    """``{% crispy_field field 'class' extra_class %}``: the widget with crispy's classes."""
    widget = bf.field.widget
    if bf.field.localize:
        widget.is_localized = True
    attrs = bf.build_widget_attrs({"class": _crispy_class(widget, extra_class)}, widget)
    if bf.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bf.auto_id)
    context = widget.get_context(bf.html_name, bf.value(), attrs)
    html = _widget_html(widget, context)
    if html is None:  # pragma: no cover - _known() keeps other widgets away
        return bf.as_widget(attrs={"class": _crispy_class(widget, extra_class)})
    return html


def _help_text_and_errors(bf: BoundField, errors) -> list[str]:
    """``bootstrap5/layout/help_text_and_errors.html`` with form_show_errors on."""
    parts = []
    if errors:
        parts.append(_errors_block(bf, errors))
    help_text = _help_text(bf)
    if help_text:
        parts.append(help_text)
    return parts


def _help_text(bf: BoundField) -> str:
    """The field's help text in crispy's ``form-text`` block (with the ``_helptext`` id that
    Django's ``aria-describedby`` names); empty without help text."""
    if not bf.help_text:
        return ""
    id_attr = f'id="{escape(bf.auto_id)}_helptext" ' if bf.auto_id else ""
    return f'<div {id_attr}class="form-text">{bf.help_text}</div>'


def _errors_block(bf: BoundField, errors) -> str:
    """``bootstrap5/layout/field_errors_block.html``."""
    auto_id = conditional_escape(bf.auto_id)
    items = "".join(
        f'<p id="error_{n}_{auto_id}"><strong>{conditional_escape(error)}</strong></p>'
        for n, error in enumerate(errors, start=1)
    )
    return f'<div id="{conditional_escape(errors.field_id)}_error" class="invalid-feedback">{items}</div>'


def _label_text(bf: BoundField, required: bool) -> str:
    text = conditional_escape(bf.label)
    return f'{text}<span class="asteriskField">*</span>' if required else str(text)


def _choices(bf: BoundField, errors) -> list[str]:
    """``bootstrap5/layout/radio_checkbox_select.html`` (not inline)."""
    widget = bf.field.widget
    id_ = widget.attrs.get("id") or bf.auto_id
    attrs = bf.build_widget_attrs({"id": id_} if id_ else {})
    groups = widget.optgroups(bf.html_name, widget.format_value(bf.value()), attrs)
    invalid = " is-invalid" if errors else ""
    name = conditional_escape(bf.html_name)
    parts = ["<div>"]
    for group_number, (group, options, _index) in enumerate(groups):
        if group:
            parts.append(f"<strong>{conditional_escape(group)}</strong>")
        last_group = group_number == len(groups) - 1
        for option_number, option in enumerate(options):
            value = conditional_escape(localize(option["value"], use_l10n=False))
            label = conditional_escape(localize(option["label"], use_l10n=False))
            parts.append(
                '<div class="form-check">\n'
                f'<input type="{option["type"]}" class="form-check-input{invalid}"  '
                f'name="{name}" value="{value}" {_attrs(option["attrs"])}>\n'
                f'<label for="{conditional_escape(option["attrs"].get("id", ""))}" '
                f'class="form-check-label">{label}</label>'
            )
            if errors and last_group and option_number == len(options) - 1:
                parts.append(_errors_block(bf, errors))
            parts.append("</div>")
    parts.append("</div>")
    help_text = _help_text(bf)
    if help_text:
        parts.append(help_text)
    return parts


_HIDDEN = "django/forms/widgets/hidden.html"


def _hidden(bf: BoundField) -> SafeString:
    """A hidden field as ``str(bf)`` renders it (``BoundField.as_widget``): a plain hidden
    input written here; any other (a hidden initial value, several hidden inputs) by
    Django."""
    widget = bf.field.widget
    if getattr(widget, "template_name", None) != _HIDDEN or bf.field.show_hidden_initial:
        return mark_safe(str(bf))  # noqa: S308 - Django's own widget rendering  # nosec B308 B703
    if bf.field.localize:
        widget.is_localized = True
    attrs = bf.build_widget_attrs({}, widget)
    if bf.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bf.auto_id)
    html = _widget_html(widget, widget.get_context(bf.html_name, bf.value(), attrs))
    return mark_safe(html)  # noqa: S308 - escaped in _widget_html  # nosec B308 B703


def render_field(bf: BoundField) -> SafeString:
    """One field as crispy's bootstrap5 ``field.html`` renders it (labels shown, errors shown,
    no horizontal layout); crispy-forms itself for a widget not known here."""
    widget = bf.field.widget
    if bf.is_hidden:
        return _hidden(bf)
    if not _known(widget) or bf.field.show_hidden_initial:
        from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field

        return as_crispy_field(bf)
    errors = bf.errors
    required = bf.field.required
    required_class = " requiredField" if required else ""
    is_checkbox = isinstance(widget, forms.CheckboxInput)
    css_classes = bf.css_classes()
    extra = f" {css_classes}" if css_classes else ""
    parts = []
    if is_checkbox:
        parts.append('<div class="mb-3">')
    outer_class = "form-check" if is_checkbox else "mb-3"
    parts.append(f'<div id="div_{conditional_escape(bf.auto_id)}" class="{outer_class}{extra}">')
    use_fieldset = bf.use_fieldset
    label = bf.label
    if label and not is_checkbox:
        if use_fieldset:
            described = bf.aria_describedby
            described_attr = (
                f' aria-describedby="{conditional_escape(described)}"' if described else ""
            )
            parts.append(f"<fieldset{described_attr}>")
        tag = "legend" if use_fieldset else "label"
        id_for_label = bf.id_for_label
        for_attr = f'for="{conditional_escape(id_for_label)}" ' if id_for_label else ""
        fs = " fs-6" if use_fieldset else ""
        parts.append(
            f'<{tag} {for_attr}class="form-label{required_class}{fs}">'
            f"{_label_text(bf, required)}</{tag}>"
        )
    if isinstance(widget, forms.RadioSelect):  # radio buttons and CheckboxSelectMultiple
        parts.extend(_choices(bf, errors))
    elif is_checkbox:
        parts.append(_widget(bf, "form-check-input is-invalid" if errors else "form-check-input"))
        parts.append(
            f'<label for="{conditional_escape(bf.id_for_label)}" '
            f'class="form-check-label{required_class}">{_label_text(bf, required)}</label>'
        )
        parts.extend(_help_text_and_errors(bf, errors))
    else:
        if isinstance(widget, forms.Select):
            extra_class = "form-select is-invalid" if errors else "form-select"
        else:
            extra_class = "form-control is-invalid" if errors else "form-control"
        parts.append(_widget(bf, extra_class))
        parts.extend(_help_text_and_errors(bf, errors))
    if use_fieldset and label:
        parts.append("</fieldset>")
    parts.append("</div>")
    if is_checkbox:
        parts.append("</div>")
    # Every value above is escaped (conditional_escape); help text is markup, as in crispy.
    return mark_safe("\n".join(parts))  # noqa: S308  # nosec B308 B703


@register.filter(name="bs5_field")
def bs5_field(bf: BoundField) -> SafeString:
    return render_field(bf)


def render_form(form: forms.Form) -> SafeString:
    """The form as crispy's ``{{ form|crispy }}`` renders one without a FormHelper
    (``bootstrap5/uni_form.html``): its own errors in crispy's alert, then every field, the
    hidden ones included, as ``render_field`` writes it."""
    parts = []
    errors = form.non_field_errors()
    if errors:
        items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
        parts.append(
            f'<div class="alert alert-block alert-danger"><ul class="m-0">{items}</ul></div>'
        )
    parts.extend(render_field(bound) for bound in form)
    # Every part is escaped above or by render_field.
    return mark_safe("\n".join(parts))  # noqa: S308  # nosec B308 B703


@register.filter(name="bs5_form")
def bs5_form(form: forms.Form) -> SafeString:
    return render_form(form)
