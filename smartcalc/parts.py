"""The exterior parts a driver can tap, the body types that carry them, and the words of
damage (kind and size in palms). Codes here are the ids of the diagram's regions and the
keys of the repair-technology data."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BodyType(models.TextChoices):
    SEDAN = "sedan", _("седан")
    HATCHBACK = "hatchback", _("хэтчбек")
    LIFTBACK = "liftback", _("лифтбек")
    WAGON = "wagon", _("универсал")
    CROSSOVER = "crossover", _("кроссовер / SUV")


# Which drawing a body type uses: a liftback looks like a hatchback from above.
DIAGRAM_FOR_BODY = {
    BodyType.SEDAN: "sedan",
    BodyType.HATCHBACK: "hatchback",
    BodyType.LIFTBACK: "hatchback",
    BodyType.WAGON: "wagon",
    BodyType.CROSSOVER: "crossover",
}

# The words of the drawings (templates/smartcalc/diagrams/*.svg); the SVG files hold no
# text of their own, so the diagram speaks the page's language.
DIAGRAM_TITLES = {
    "sedan": _("Седан, вид сверху: нажмите на повреждённую деталь"),
    "hatchback": _("Хэтчбек, вид сверху: нажмите на повреждённую деталь"),
    "wagon": _("Универсал, вид сверху: нажмите на повреждённую деталь"),
    "crossover": _("Кроссовер, вид сверху: нажмите на повреждённую деталь"),
}
DIAGRAM_MARKS = {
    "front": pgettext_lazy("сторона автомобиля на схеме", "Перед"),
    "rear": pgettext_lazy("сторона автомобиля на схеме", "Зад"),
    "left": pgettext_lazy("левая сторона автомобиля на схеме, одна буква", "Л"),
    "right": pgettext_lazy("правая сторона автомобиля на схеме, одна буква", "П"),
}


class Material(models.TextChoices):
    STEEL = "steel", _("сталь")
    ALUMINIUM = "aluminium", _("алюминий")
    PLASTIC = "plastic", _("пластик")
    GLASS = "glass", _("стекло")
    LAMP = "lamp", _("оптика")
    WHEEL = "wheel", _("колёсный диск")


class DamageKind(models.TextChoices):
    SCRATCH = "scratch", _("царапина или скол краски")
    DENT = "dent", _("вмятина")
    CRACK = "crack", _("трещина или разрыв")
    BROKEN = "broken", _("разбито или отсутствует")


class DamageSize(models.TextChoices):
    """Measured in palms (a palm without fingers, about 10 × 10 cm)."""

    UP_TO_1 = "1", _("до 1 ладони")
    FROM_1_TO_2 = "2", _("1–2 ладони")
    FROM_2_TO_4 = "4", _("2–4 ладони")
    OVER_4 = "5", _("больше 4 ладоней или вся деталь")


SIZE_ORDER = [DamageSize.UP_TO_1, DamageSize.FROM_1_TO_2, DamageSize.FROM_2_TO_4, DamageSize.OVER_4]


class PaintType(models.TextChoices):
    """What the driver knows about the colour; «не знаю» is priced as metallic (the most
    common finish on the cars in the catalogue, and the price does not rise at the shop)."""

    UNKNOWN = "unknown", _("не знаю")
    SOLID = "solid", _("обычная (без блёсток)")
    METALLIC = "metallic", _("металлик")
    PEARL = "pearl", _("перламутр")


class Operation(models.TextChoices):
    POLISH = "polish", _("полировка")
    SPOT = "spot", _("локальный ремонт покрытия")
    PAINT = "paint", _("окраска")
    REPAIR_PAINT = "repair_paint", _("ремонт и окраска")
    REPLACE_PAINT = "replace_paint", _("замена и окраска")
    REPLACE = "replace", _("замена")
    REPAIR = "repair", _("ремонт без окраски")


@dataclass(frozen=True)
class Part:
    code: str
    name: str
    material: str
    paintable: bool
    bodies: tuple[str, ...]  # body types that have this part


_ALL = tuple(BodyType.values)
_BOOT_LID = (BodyType.SEDAN,)
_TAILGATE = (BodyType.HATCHBACK, BodyType.LIFTBACK, BodyType.WAGON, BodyType.CROSSOVER)

PARTS: dict[str, Part] = {
    p.code: p
    for p in [
        Part("bumper_front", _("бампер передний"), Material.PLASTIC, True, _ALL),
        Part("bumper_rear", _("бампер задний"), Material.PLASTIC, True, _ALL),
        Part("bonnet", _("капот"), Material.STEEL, True, _ALL),
        Part("wing_front_left", _("крыло переднее левое"), Material.STEEL, True, _ALL),
        Part("wing_front_right", _("крыло переднее правое"), Material.STEEL, True, _ALL),
        Part("door_front_left", _("дверь передняя левая"), Material.STEEL, True, _ALL),
        Part("door_front_right", _("дверь передняя правая"), Material.STEEL, True, _ALL),
        Part("door_rear_left", _("дверь задняя левая"), Material.STEEL, True, _ALL),
        Part("door_rear_right", _("дверь задняя правая"), Material.STEEL, True, _ALL),
        Part("quarter_left", _("крыло заднее левое"), Material.STEEL, True, _ALL),
        Part("quarter_right", _("крыло заднее правое"), Material.STEEL, True, _ALL),
        Part("sill_left", _("порог левый"), Material.STEEL, True, _ALL),
        Part("sill_right", _("порог правый"), Material.STEEL, True, _ALL),
        Part("roof", _("крыша"), Material.STEEL, True, _ALL),
        Part("boot_lid", _("крышка багажника"), Material.STEEL, True, _BOOT_LID),
        Part("tailgate", _("дверь задка"), Material.STEEL, True, _TAILGATE),
        Part("mirror_left", _("зеркало левое"), Material.PLASTIC, True, _ALL),
        Part("mirror_right", _("зеркало правое"), Material.PLASTIC, True, _ALL),
        Part("headlamp_left", _("фара левая"), Material.LAMP, False, _ALL),
        Part("headlamp_right", _("фара правая"), Material.LAMP, False, _ALL),
        Part("taillamp_left", _("фонарь задний левый"), Material.LAMP, False, _ALL),
        Part("taillamp_right", _("фонарь задний правый"), Material.LAMP, False, _ALL),
        Part("foglamp_left", _("противотуманная фара левая"), Material.LAMP, False, _ALL),
        Part("foglamp_right", _("противотуманная фара правая"), Material.LAMP, False, _ALL),
        Part("windscreen", _("лобовое стекло"), Material.GLASS, False, _ALL),
        Part("rear_window", _("заднее стекло"), Material.GLASS, False, _ALL),
        Part("glass_front_left", _("стекло передней левой двери"), Material.GLASS, False, _ALL),
        Part("glass_front_right", _("стекло передней правой двери"), Material.GLASS, False, _ALL),
        Part("glass_rear_left", _("стекло задней левой двери"), Material.GLASS, False, _ALL),
        Part("glass_rear_right", _("стекло задней правой двери"), Material.GLASS, False, _ALL),
        Part("wheel_front_left", _("диск переднего левого колеса"), Material.WHEEL, False, _ALL),
        Part("wheel_front_right", _("диск переднего правого колеса"), Material.WHEEL, False, _ALL),
        Part("wheel_rear_left", _("диск заднего левого колеса"), Material.WHEEL, False, _ALL),
        Part("wheel_rear_right", _("диск заднего правого колеса"), Material.WHEEL, False, _ALL),
    ]
}

# Panels that share a paint edge: a repainted panel is blended into the next one so that
# the colour change is invisible (only when that neighbour is not painted anyway).
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "wing_front_left": ("door_front_left",),
    "wing_front_right": ("door_front_right",),
    "door_front_left": ("door_rear_left", "wing_front_left"),
    "door_front_right": ("door_rear_right", "wing_front_right"),
    "door_rear_left": ("quarter_left", "door_front_left"),
    "door_rear_right": ("quarter_right", "door_front_right"),
    "quarter_left": ("door_rear_left",),
    "quarter_right": ("door_rear_right",),
}


def parts_for_body(body_type: str) -> list[Part]:
    return [part for part in PARTS.values() if body_type in part.bodies]
