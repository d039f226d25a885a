"""One-time form keys (ipt_clinic.submissions) in tests: the key a create form is rendered
with, issued the way the view issues it, or read from a rendered page."""

import re

from ipt_clinic.submissions.services import FormBinding, FormPurpose, form_key_issue

KEY_RE = re.compile(r'name="form_key" value="([^"]+)"')


def fresh_key(purpose: FormPurpose | FormBinding, record=None) -> str:
    """A new key for the form ``purpose`` adding to ``record`` (or for a ready binding)."""
    binding = purpose if isinstance(purpose, FormBinding) else purpose.bind(record)
    return form_key_issue(binding)


def key_on(page) -> str:
    """The key carried by the form on ``page`` (a response or its text)."""
    text = page if isinstance(page, str) else page.content.decode()
    return KEY_RE.search(text).group(1)
