"""Russian is the source language; the English catalogues (pages and scripts) must be complete."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.core.management import call_command

LC_MESSAGES = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"
# django: templates and Python; djangojs: the pages' scripts, served at /jsi18n/.
DOMAINS = ["django", "djangojs"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_english_entry_is_translated(domain):
    po = polib.pofile(str(LC_MESSAGES / f"{domain}.po"))
    assert len(po) > 0
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]


@pytest.mark.parametrize("domain", DOMAINS)
def test_catalogue_has_every_string_of_the_code(domain):
    """Extract the strings again; anything new must already be in the catalogue."""
    path = LC_MESSAGES / f"{domain}.po"
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
    assert not missing, f"strings not in locale/en/LC_MESSAGES/{domain}.po: {missing[:10]}"
