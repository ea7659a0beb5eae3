"""Russian is the source language; the English catalogues (Python and the pages' scripts)
must be complete, and the Russian scripts' catalogue must give every plural its forms."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.core.management import call_command

LOCALE = Path(__file__).resolve().parents[2] / "locale"
DOMAINS = ["django", "djangojs"]


def _po(domain: str) -> Path:
    return LOCALE / "en" / "LC_MESSAGES" / f"{domain}.po"


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_english_entry_is_translated(domain):
    po = polib.pofile(str(_po(domain)))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]


@pytest.mark.parametrize("domain", DOMAINS)
def test_catalogue_has_every_string_of_the_code(domain):
    """Extract the strings again; anything new must already be in the catalogue."""
    path = _po(domain)
    original = path.read_bytes()
    try:
        call_command(
            "makemessages",
            locale=["en"],
            domain=domain,
            ignore_patterns=[".venv", "var", "tests", "benchmarks"],
            verbosity=0,
        )
        fresh = polib.pofile(str(path))
    finally:
        path.write_bytes(original)
    known = {e.msgid for e in polib.pofile(str(path))}
    missing = sorted({e.msgid for e in fresh} - known)
    assert not missing, f"strings not in locale/{path.relative_to(LOCALE)}: {missing[:10]}"


def test_every_plural_of_the_scripts_has_its_russian_forms():
    """Untranslated, ngettext() picks a form by the English rule ("5 кадра"): Russian is
    the source, so its catalogue spells out the three forms of every plural."""
    english = polib.pofile(str(_po("djangojs")))
    russian = {e.msgid: e for e in polib.pofile(str(LOCALE / "ru" / "LC_MESSAGES" / "djangojs.po"))}
    plurals = [e.msgid for e in english if e.msgid_plural]
    assert plurals
    for msgid in plurals:
        forms = russian[msgid].msgstr_plural if msgid in russian else {}
        assert len({forms.get(i) for i in (0, 1, 2)} - {None, ""}) == 3, msgid
