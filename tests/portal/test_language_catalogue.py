"""The portal's catalogues (locale/<language>/LC_MESSAGES/django.po and .mo, made by
``make messages``): every entry translated and none fuzzy, the committed .mo saying what the
.po says, and the .po holding every string the code and the templates mark for translation."""

import ast
import gettext
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent.parent
LOCALE = ROOT / "locale"
# Every language but the default, whose words are the code's own.
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# As the Makefile's messages target runs it.
IGNORE = [".venv", "node_modules", "static", "staticfiles", "var", "tests", "bench", "docs"]


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    # msgstr, or msgstr[0], msgstr[1] … for a plural.
    translations: list[str] = field(default_factory=list)
    fuzzy: bool = False
    line: int = 0

    @property
    def name(self) -> str:
        where = f"{self.context}: " if self.context else ""
        return f"line {self.line}: {where}{self.msgid!r}"


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header entry, msgid "", left out; obsolete "#~" entries
    kept out too)."""
    entries: list[Entry] = []
    entry, last = Entry(), None

    def finish():
        nonlocal entry, last
        if entry.msgid or entry.translations:
            entries.append(entry)
        entry, last = Entry(), None

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            finish()
            continue
        if line.startswith("#,"):
            entry.fuzzy = entry.fuzzy or "fuzzy" in [flag.strip() for flag in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = last, line
        value = ast.literal_eval(rest)
        if keyword == "msgctxt":
            entry.context = (entry.context or "") + value
        elif keyword == "msgid":
            entry.msgid += value
            entry.line = entry.line or number
        elif keyword == "msgid_plural":
            entry.plural = (entry.plural or "") + value
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if "[" in keyword else 0
            if keyword != last:
                entry.translations.append("")
            entry.translations[index] += value
        last = keyword
    finish()
    return [entry for entry in entries if entry.msgid]


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    entries = read_po(po_path(language))
    assert entries
    untranslated = [entry.name for entry in entries if not all(entry.translations)]
    fuzzy = [entry.name for entry in entries if entry.fuzzy]
    assert not untranslated, f"untranslated in {language}'s django.po: {untranslated}"
    assert not fuzzy, f"fuzzy in {language}'s django.po: {fuzzy}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_says_what_the_po_says(language):
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    differ = []
    for entry in read_po(po_path(language)):
        if entry.plural is None:
            found = (
                catalogue.pgettext(entry.context, entry.msgid)
                if entry.context
                else catalogue.gettext(entry.msgid)
            )
            if found != entry.translations[0]:
                differ.append(entry.name)
            continue
        for n in (1, 2, 5, 1_000_000):
            expected = entry.translations[catalogue.plural(n)]
            found = (
                catalogue.npgettext(entry.context, entry.msgid, entry.plural, n)
                if entry.context
                else catalogue.ngettext(entry.msgid, entry.plural, n)
            )
            if found != expected:
                differ.append(f"{entry.name} (n={n})")
    assert not differ, f"django.mo differs from django.po; run make messages: {differ}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogue_holds_every_string_marked_for_translation(
    language, tmp_path, monkeypatch, settings
):
    # makemessages writes the catalogue of the tree it runs in: run in a copy of the sources
    # (with a copy of the catalogue), so that the committed one is untouched; msgmerge there
    # adds what the code marks and the .po lacks, and drops what nothing marks any more.
    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT, tree, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.mo", *IGNORE)
    )
    settings.LOCALE_PATHS = [tree / "locale"]
    monkeypatch.chdir(tree)
    call_command(
        "makemessages",
        locale=[language],
        domain="django",
        no_obsolete=True,
        ignore_patterns=IGNORE,
        verbosity=0,
    )
    committed = {(entry.context, entry.msgid) for entry in read_po(po_path(language))}
    marked = {
        (entry.context, entry.msgid)
        for entry in read_po(tree / "locale" / language / "LC_MESSAGES" / "django.po")
    }
    assert not marked - committed, (
        f"marked for translation but not in {language}'s django.po (run make messages and "
        f"translate them): {sorted(marked - committed, key=str)}"
    )
    assert not committed - marked, (
        f"in {language}'s django.po but marked nowhere (run make messages): "
        f"{sorted(committed - marked, key=str)}"
    )
