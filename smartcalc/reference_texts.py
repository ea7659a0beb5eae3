"""Words of the shipped reference data that drivers and advisors read, marked here so that
makemessages extracts them into the catalogue: generation names of the vehicle catalogue,
the extra work a repair brings (dependencies.csv) and the europrotocol limits. The data stays
Russian in the database; pages translate it when they show it (the `reference` filter of
smartcalc.templatetags.calc), and a text edited in admin shows as it was typed.

tests/smartcalc/test_reference_texts.py fails when a CSV file gains a text missing here.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from .loader import DATA_DIR, _rows

GENERATION_NAMES = (
    gettext_noop("Solaris (АГР)"),
    gettext_noop("лифтбек"),
    gettext_noop("седан"),
)

EXTRA_WORK = (
    gettext_noop("Перенос замка двери задка"),
    gettext_noop("Перенос замка и наружной ручки задней левой двери"),
    gettext_noop("Перенос замка и наружной ручки задней правой двери"),
    gettext_noop("Перенос замка и наружной ручки передней левой двери"),
    gettext_noop("Перенос замка и наружной ручки передней правой двери"),
    gettext_noop("Перенос замка крышки багажника"),
    gettext_noop("Перенос левого наружного зеркала"),
    gettext_noop("Перенос моторчика заднего стеклоочистителя"),
    gettext_noop("Перенос правого наружного зеркала"),
    gettext_noop("Перенос стекла и стеклоподъёмника задней левой двери"),
    gettext_noop("Перенос стекла и стеклоподъёмника задней правой двери"),
    gettext_noop("Перенос стекла и стеклоподъёмника передней левой двери"),
    gettext_noop("Перенос стекла и стеклоподъёмника передней правой двери"),
    gettext_noop("Перенос фонарей (если стоят на двери), подсветки номера и эмблем"),
    gettext_noop("Перенос фонарей (если стоят на крышке), подсветки номера и эмблем"),
    gettext_noop("Регулировка левой противотуманной фары"),
    gettext_noop("Регулировка левой фары"),
    gettext_noop("Регулировка правой противотуманной фары"),
    gettext_noop("Регулировка правой фары"),
    gettext_noop("Снятие и установка жабо (решётки под лобовым стеклом)"),
    gettext_noop("Снятие и установка заднего бампера"),
    gettext_noop("Снятие и установка левого наружного зеркала (отключение проводки)"),
    gettext_noop("Снятие и установка левой фары"),
    gettext_noop("Снятие и установка наружной ручки задней левой двери"),
    gettext_noop("Снятие и установка наружной ручки задней правой двери"),
    gettext_noop("Снятие и установка наружной ручки передней левой двери"),
    gettext_noop("Снятие и установка наружной ручки передней правой двери"),
    gettext_noop("Снятие и установка обивки двери задка"),
    gettext_noop("Снятие и установка обивки задней левой двери"),
    gettext_noop("Снятие и установка обивки задней правой двери"),
    gettext_noop("Снятие и установка обивки передней левой двери"),
    gettext_noop("Снятие и установка обивки передней правой двери"),
    gettext_noop("Снятие и установка переднего бампера"),
    gettext_noop("Снятие и установка переднего бампера (частично, боковое крепление)"),
    gettext_noop("Снятие и установка поводков стеклоочистителя"),
    gettext_noop("Снятие и установка подкрылка переднего левого"),
    gettext_noop("Снятие и установка подкрылка переднего правого"),
    gettext_noop("Снятие и установка правого наружного зеркала (отключение проводки)"),
    gettext_noop("Снятие и установка правой фары"),
)

EUROPROTOCOL = (
    gettext_noop("Европротокол на бумажном бланке"),
    gettext_noop(
        "Водители сами заполняют бумажное извещение о ДТП без вызова Госавтоинспекции и "
        "согласны в обстоятельствах, вине и списке повреждений. Страховая выплатит не больше "
        "100 000 ₽. Условия: в ДТП участвуют только две машины, у обеих действующий полис "
        "ОСАГО, никто не пострадал, другое имущество (забор, столб, третья машина) не "
        "повреждено."
    ),
    gettext_noop("Европротокол с разногласиями через приложение"),
    gettext_noop(
        "Водители не согласны в обстоятельствах, вине или повреждениях, но ДТП "
        "зафиксировано через официальное приложение «ДТП.Европротокол» или «Госуслуги Авто» (либо "
        "устройством ГЛОНАСС) и данные отправлены страховой. Страховая выплатит не больше "
        "200 000 ₽. Условия: в ДТП участвуют только две машины, у обеих действующий полис "
        "ОСАГО, никто не пострадал, другое имущество (забор, столб, третья машина) не "
        "повреждено."
    ),
    gettext_noop("Европротокол без разногласий через приложение"),
    gettext_noop(
        "Водители согласны в обстоятельствах, вине и повреждениях, ДТП зафиксировано и "
        "данные отправлены через официальное приложение «ДТП.Европротокол» или «Госуслуги Авто» "
        "(либо устройством ГЛОНАСС). Страховая выплатит до 400 000 ₽ — как при оформлении с "
        "Госавтоинспекцией. Условия: в ДТП участвуют только две машины, у обеих действующий "
        "полис ОСАГО, никто не пострадал, другое имущество (забор, столб, третья машина) не "
        "повреждено."
    ),
)

TEXTS = frozenset((*GENERATION_NAMES, *EXTRA_WORK, *EUROPROTOCOL))


def shipped_texts() -> set[str]:
    """The texts of the data files that need a translation (Latin names need none)."""
    texts = {row["generation"] for row in _rows(DATA_DIR, "vehicles.csv")}
    texts = {name for name in texts if not name.isascii()}
    texts |= {row["item"] for row in _rows(DATA_DIR, "dependencies.csv")}
    for row in _rows(DATA_DIR, "europrotocol.csv"):
        texts |= {row["title"], row["conditions_text"]}
    return texts
