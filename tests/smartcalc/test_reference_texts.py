"""The shipped reference data that people read is translated when a page shows it."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from smartcalc.models import EuroprotocolLimit
from smartcalc.reference_texts import TEXTS, shipped_texts


def test_every_text_of_the_data_files_is_marked_for_translation():
    shipped = shipped_texts()
    missing = sorted(shipped - TEXTS)
    stale = sorted(TEXTS - shipped)
    assert not missing, "add to smartcalc/reference_texts.py:\n" + "\n".join(missing)
    assert not stale, "no longer in smartcalc/data, remove from reference_texts.py: " + str(stale)


def _render(source: str, **context) -> str:
    return Template("{% load calc %}" + source).render(Context(context))


def test_loaded_data_is_shown_in_the_page_language_and_edited_data_as_typed(db):
    limit = EuroprotocolLimit.objects.filter(condition="paper").first()
    with translation.override("en"):
        assert _render("{{ t|reference }}", t=limit.title) == "Europrotocol on the paper form"
        assert _render("{{ t|reference }}", t="Европротокол (уточнено)") == (
            "Европротокол (уточнено)"
        )
        assert _render("{{ t|reference }}", t="") == ""
    with translation.override("ru"):
        assert _render("{{ t|reference }}", t=limit.title) == limit.title


def test_an_estimate_line_names_its_part_in_the_page_language():
    stored = {"part": "door_front_left", "part_name": "дверь передняя левая"}
    extra = {"part": "extra", "part_name": "Кронштейн заднего бампера"}
    with translation.override("en"):
        assert _render("{{ line|line_part }}", line=stored) == "front left door"
        assert _render("{{ line|line_part }}", line=extra) == "Кронштейн заднего бампера"
        assert _render('{{ "door_front_left"|part_title }}') == "Front left door"
        assert _render('{{ "sedan"|diagram_title }}').startswith("Sedan seen from above")
