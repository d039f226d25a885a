"""Two people editing one record at once: what each area's stale-edit tests check on the pages
(ipt_clinic.editing, templates/partials/stale_edit.html)."""

import html
import re

VERSION = re.compile(r'name="version" value="(\d+)"')
THEIRS = re.compile(r'<td class="text-prewrap stale-theirs">(.*?)</td>', re.DOTALL)
YOURS = re.compile(r'<td class="text-prewrap stale-yours">(.*?)</td>', re.DOTALL)


def open_form(client, url) -> int:
    """Open an edit page as its user would; the version its form carries."""
    response = client.get(url)
    assert response.status_code == 200
    [version] = VERSION.findall(response.content.decode())
    return int(version)


def assert_refused(
    response,
    *,
    theirs: list[str],
    yours: list[str],
    version: int,
    in_form: list[str] | None = None,
) -> None:
    """The refused save's page: 409, the stored values (``theirs``) beside the typed ones
    (``yours``) in the box, the typed ones still in the form (as the form writes them:
    ``in_form``, by default ``yours``), and the form moved on to the stored ``version``."""
    assert response.status_code == 409
    page = response.content.decode()
    start = page.index('id="stale-edit"')
    end = page.index("</table>", start)
    box, form = page[start:end], page[end:]
    assert "Changed by someone else since you opened it" in box
    stored = [html.unescape(cell) for cell in THEIRS.findall(box)]
    typed = [html.unescape(cell) for cell in YOURS.findall(box)]
    for value in theirs:
        assert any(value in cell for cell in stored), (value, stored)
    for value in yours:
        assert any(value in cell for cell in typed), (value, typed)
    for value in yours if in_form is None else in_form:
        assert value in html.unescape(form), f"{value!r} is no longer in the form"
    assert VERSION.findall(form) == [str(version)]
