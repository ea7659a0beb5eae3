"""The damage diagram, shared: the body drawings, the exterior parts and the picker that marks
damage on them. Intake marks a car's existing damage with the very same picker, part codes and
colours as the calculator; this module is what it (and any other app) uses of smartcalc for
that. Damages cross this boundary as plain dicts: {"part", "kind", "size"}."""

from __future__ import annotations

from django.template.loader import render_to_string

from .engine import Damage
from .forms import parse_damages, picker_rows
from .parts import DIAGRAM_FOR_BODY, PARTS, BodyType, DamageKind, DamageSize
from .templatetags.calc import severity_colour

__all__ = [
    "BodyType",
    "DamageKind",
    "DamageSize",
    "damages_from_form",
    "diagram_for_body",
    "diagram_svg_coloured",
    "is_exterior_part",
    "picker_context",
]


def is_exterior_part(code: str) -> bool:
    return code in PARTS


def diagram_for_body(body_type: str) -> str:
    """The drawing a body type is shown on (a sedan's when the type is unknown)."""
    return DIAGRAM_FOR_BODY.get(body_type, "sedan")


def damages_from_form(data, body_type: str) -> tuple[list[dict], dict[str, str]]:
    """The picker's fields as damages, and a Russian error per half-filled part."""
    parsed, errors = parse_damages(data, body_type)
    return [{"part": d.part, "kind": d.kind, "size": d.size} for d in parsed], errors


def picker_context(body_type: str, damages: list[dict]) -> dict:
    """What the `smartcalc/_damage_picker.html` partial needs to show these damages."""
    marked = [Damage(d["part"], d["kind"], d["size"]) for d in damages if d.get("part") in PARTS]
    return {
        "rows": picker_rows(body_type, marked),
        "diagram": diagram_for_body(body_type),
        "kinds": DamageKind.choices,
        "sizes": DamageSize.choices,
    }


def diagram_svg_coloured(body_type: str, damages: list[dict]) -> str:
    """The body drawing with the damaged parts filled by severity, as attributes (a PDF
    renderer ignores page CSS inside SVG)."""
    svg = render_to_string(f"smartcalc/diagrams/{diagram_for_body(body_type)}.svg")
    for damage in damages:
        part = damage.get("part")
        if part in PARTS:
            svg = svg.replace(
                f'<g id="part-{part}" ', f'<g id="part-{part}" fill="{severity_colour(damage)}" ', 1
            )
    return svg
