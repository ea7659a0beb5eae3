"""Russian is the source language; the English catalogue must be complete."""

from __future__ import annotations

from pathlib import Path

import polib
from django.core.management import call_command

PO = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_english_entry_is_translated():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]


def test_catalogue_has_every_string_of_the_code():
    """Extract the strings again; anything new must already be in the catalogue."""
    original = PO.read_bytes()
    try:
        call_command(
            "makemessages",
            locale=["en"],
            ignore_patterns=[".venv", "var", "tests", "benchmarks"],
            verbosity=0,
        )
        fresh = polib.pofile(str(PO))
    finally:
        PO.write_bytes(original)
    known = {e.msgid for e in polib.pofile(str(PO))}
    missing = sorted({e.msgid for e in fresh} - known)
    assert not missing, f"strings not in locale/en: {missing[:10]}"
