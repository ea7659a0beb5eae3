"""The page's panels: for each figure a chart, the same numbers as an accessible table, and
the rows its CSV/XLSX export writes. Built from `selectors.dashboard` only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from autoservice.money import format_rub

from . import charts
from .charts import number_ru, percent_ru
from .models import PickKind, Source, Stage

WEEKDAYS = (
    gettext_lazy("Пн"),
    gettext_lazy("Вт"),
    gettext_lazy("Ср"),
    gettext_lazy("Чт"),
    gettext_lazy("Пт"),
    gettext_lazy("Сб"),
    gettext_lazy("Вс"),
)
BAND_LABELS = {
    "lt5m": gettext_lazy("до 5 мин"),
    "lt15m": gettext_lazy("5–15 мин"),
    "lt30m": gettext_lazy("15–30 мин"),
    "lt1h": gettext_lazy("30–60 мин"),
    "lt4h": gettext_lazy("1–4 ч"),
    "lt24h": gettext_lazy("4–24 ч"),
    "ge24h": gettext_lazy("сутки и больше"),
}


@dataclass(frozen=True)
class Cell:
    raw: object  # what the export writes: a number, a date or a text
    text: str  # what the page shows, formatted the Russian way


@dataclass
class Panel:
    key: str
    title: str
    chart: SafeString | None
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    wide: bool = False


@dataclass
class Section:
    key: str
    title: str
    panels: list[Panel] = field(default_factory=list)


def minutes_text(seconds: float | None) -> str:
    """A response time for people: «4 мин», «1 ч 05 мин», «2 дн 3 ч»."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(m)s мин") % {"m": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s ч %(m)02d мин") % {"h": hours, "m": rest}
    days, hours = divmod(hours, 24)
    return _("%(d)s дн %(h)s ч") % {"d": days, "h": hours}


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def n(value) -> Cell:
    return Cell(value or 0, number_ru(value or 0))


def pct(value: float | None) -> Cell:
    return Cell(round(value, 1) if value is not None else None, percent_ru(value, 1))


def rub(value) -> Cell:
    value = Decimal(value).quantize(Decimal("0.01")) if value is not None else None
    return Cell(value, format_rub(value, kopecks=False) if value is not None else "—")


def dur(seconds: float | None) -> Cell:
    return Cell(_minutes(seconds), minutes_text(seconds))


def text(value) -> Cell:
    return Cell(str(value), str(value))


def _share(part, whole) -> float | None:
    return part * 100 / whole if whole else None


def _bucket_label(bucket: dt.date, by_month: bool, short: bool = False) -> str:
    """A week by its Monday, a month by its name; shorter on a chart's axis."""
    if by_month:
        return date_format(bucket, "b Y" if short else "F Y")
    return date_format(bucket, "d.m" if short else "d.m.Y")


def _advisor_name(row: dict) -> str:
    if row["assignee_id"] is None:
        return _("не назначен")
    return f"{row['first'] or ''} {row['last'] or ''}".strip() or row["login"]


def kpis(data: dict) -> list[tuple[str, str, str]]:
    totals, kinds = data["totals"], data["money"]["kinds"]
    return [
        (_("Заявок"), number_ru(totals["n"]), ""),
        (_("Медиана первого ответа"), minutes_text(totals["p50"]), ""),
        (_("Ответили в срок"), percent_ru(totals["sla_share"]), _("по SLA сервиса")),
        (
            _("Пришли в нерабочее время"),
            number_ru(totals["after_n"]),
            _("медиана ответа %(t)s") % {"t": minutes_text(totals["after_p50"])},
        ),
        (
            _("Конверсия в выполненные"),
            percent_ru(_share(totals["stage_6"], totals["n"]), 1),
            "",
        ),
        (_("Средний чек"), format_rub(totals["average_check_rub"], kopecks=False) or "—", ""),
        (
            _("Рекомендацию (+30 %) приняли"),
            percent_ru(kinds["recommended_share"]),
            _("из позиций, где она была"),
        ),
    ]


def speed_section(data: dict) -> Section:
    totals = data["totals"]
    section = Section("speed", _("Скорость ответа"))
    labels = [str(BAND_LABELS[key]) for key in BAND_LABELS]
    counts = [totals[f"band_{key}"] for key in BAND_LABELS]
    labels.append(_("нет ответа"))
    counts.append(totals["unanswered"])
    section.panels.append(
        Panel(
            "response-distribution",
            _("Время до первого ответа: распределение"),
            charts.bars(_("Время до первого ответа"), labels, [(_("заявок"), counts)]),
            [_("Время ответа"), _("Заявок"), _("Доля")],
            [
                [text(label), n(c), pct(_share(c, totals["n"]))]
                for label, c in zip(labels, counts, strict=True)
            ],
            note=_("Медиана %(p50)s, 90-й процентиль %(p90)s, в срок %(sla)s.")
            % {
                "p50": minutes_text(totals["p50"]),
                "p90": minutes_text(totals["p90"]),
                "sla": percent_ru(totals["sla_share"]),
            },
        )
    )
    hours = [f"{h:02d}" for h in range(24)]
    grid = data["grid"]
    medians = [
        [
            _minutes(grid[(d, h)][1]) if (d, h) in grid and grid[(d, h)][1] is not None else None
            for h in range(24)
        ]
        for d in range(7)
    ]
    section.panels.append(
        Panel(
            "response-grid",
            _("Медиана ответа по дню недели и часу, мин"),
            charts.heatmap(
                _("Медиана ответа по дню недели и часу"),
                [str(d) for d in WEEKDAYS],
                hours,
                medians,
                lambda v: _("%(v)s мин") % {"v": number_ru(v, 1)} if v is not None else "—",
            ),
            [_("День")] + [f"{h}:00" for h in hours],
            [
                [text(WEEKDAYS[d])]
                + [Cell(v, number_ru(v, 1) if v is not None else "—") for v in medians[d]]
                for d in range(7)
            ],
            note=_(
                "Час и день — когда клиент написал, по времени сервиса. Серое — заявок не было."
            ),
            wide=True,
        )
    )
    for key, title, rows, name in (
        ("response-advisors", _("По сотрудникам"), data["advisors"], _advisor_name),
        (
            "response-sources",
            _("По каналам"),
            data["sources"],
            lambda r: str(Source(r["source"]).label),
        ),
    ):
        names = [name(r) for r in rows]
        section.panels.append(
            Panel(
                key,
                _("Время ответа %(by)s: медиана и 90-й процентиль") % {"by": title.lower()},
                charts.ranges(
                    title,
                    names,
                    [_minutes(r["p50"]) for r in rows],
                    [_minutes(r["p90"]) for r in rows],
                    lambda v: number_ru(v, 0) if v is not None else "—",
                    low_name=_("медиана, мин"),
                    high_name=_("90 % ответов быстрее, мин"),
                ),
                [
                    title.split()[-1].capitalize(),
                    _("Заявок"),
                    _("Медиана"),
                    _("90-й процентиль"),
                    _("В срок"),
                ],
                [
                    [
                        text(nm),
                        n(r["n"]),
                        dur(r["p50"]),
                        dur(r["p90"]),
                        pct(_share(r["sla_met"], r["sla_known"])),
                    ]
                    for nm, r in zip(names, rows, strict=True)
                ],
            )
        )
    periods = data["periods"]
    by_month = data["scope"].period.by_month
    shares = [_share(p["sla_met"], p["sla_known"]) for p in periods]
    section.panels.append(
        Panel(
            "speed-periods",
            _("Доля ответов в срок по месяцам")
            if by_month
            else _("Доля ответов в срок по неделям"),
            charts.lines(
                _("Доля ответов в срок"),
                [_bucket_label(p["bucket"], by_month, short=True) for p in periods],
                [(_("в срок, %"), shares)],
                lambda v: percent_ru(v),
            ),
            [_("Период"), _("Заявок"), _("В срок")],
            [
                [Cell(p["bucket"], _bucket_label(p["bucket"], by_month)), n(p["n"]), pct(share)]
                for p, share in zip(periods, shares, strict=True)
            ],
        )
    )
    grid_panel = next(p for p in section.panels if p.key == "response-grid")
    section.panels.remove(grid_panel)
    section.panels.append(grid_panel)
    return section


def funnel_section(data: dict) -> Section:
    totals = data["totals"]
    by_month = data["scope"].period.by_month
    section = Section("funnel", _("Воронка"))
    steps = [(str(stage.label).capitalize(), totals[f"stage_{stage.value}"]) for stage in Stage]
    rows, previous = [], None
    for label, count in steps:
        rows.append(
            [text(label), n(count), pct(_share(count, previous)), pct(_share(count, totals["n"]))]
        )
        previous = count
    section.panels.append(
        Panel(
            "funnel",
            _("Воронка: от заявки до выполненного ремонта"),
            charts.funnel(_("Воронка"), steps),
            [_("Шаг"), _("Заявок"), _("От предыдущего"), _("От всех")],
            rows,
            note=_("Заявка считается на каждом шаге до самого дальнего, которого достигла."),
        )
    )
    sources = data["sources"]
    section.panels.append(
        Panel(
            "funnel-sources",
            _("Воронка по каналам"),
            charts.bars(
                _("Воронка по каналам"),
                [str(Source(r["source"]).label) for r in sources],
                [
                    (_("заявки"), [r["stage_0"] for r in sources]),
                    (_("приняли предложение"), [r["stage_3"] for r in sources]),
                    (_("выполнены"), [r["stage_6"] for r in sources]),
                ],
            ),
            [_("Канал")]
            + [str(s.label).capitalize() for s in Stage]
            + [_("Отказ"), _("Конверсия")],
            [
                [text(Source(r["source"]).label)]
                + [n(r[f"stage_{s.value}"]) for s in Stage]
                + [n(r["lost_n"]), pct(_share(r["stage_6"], r["stage_0"]))]
                for r in sources
            ],
            wide=True,
        )
    )
    periods = data["periods"]
    labels = [_bucket_label(p["bucket"], by_month) for p in periods]
    short = [_bucket_label(p["bucket"], by_month, short=True) for p in periods]
    section.panels.append(
        Panel(
            "funnel-periods",
            _("Заявки и выполненные по месяцам")
            if by_month
            else _("Заявки и выполненные по неделям"),
            charts.lines(
                _("Заявки по периодам"),
                short,
                [
                    (_("заявки"), [p["n"] for p in periods]),
                    (_("приняли предложение"), [p["stage_3"] for p in periods]),
                    (_("выполнены"), [p["stage_6"] for p in periods]),
                ],
            ),
            [_("Период"), _("Заявок"), _("Приняли"), _("Выполнены"), _("Конверсия"), _("В срок")],
            [
                [
                    Cell(p["bucket"], label),
                    n(p["n"]),
                    n(p["stage_3"]),
                    n(p["stage_6"]),
                    pct(_share(p["stage_6"], p["n"])),
                    pct(_share(p["sla_met"], p["sla_known"])),
                ]
                for label, p in zip(labels, periods, strict=True)
            ],
        )
    )
    reasons = data["lost_reasons"]
    section.panels.append(
        Panel(
            "lost-reasons",
            _("Причины отказа"),
            charts.hbars(
                _("Причины отказа"),
                [r["lost_reason"] or _("без причины") for r in reasons],
                [r["n"] for r in reasons],
                colour=charts.PALETTE[3],
            ),
            [_("Причина"), _("Заявок"), _("Доля отказов")],
            [
                [
                    text(r["lost_reason"] or _("без причины")),
                    n(r["n"]),
                    pct(_share(r["n"], totals["lost_n"])),
                ]
                for r in reasons
            ],
            note=_("Всего отказов: %(n)s.") % {"n": number_ru(totals["lost_n"])},
        )
    )
    return section


def money_section(data: dict) -> Section:
    totals, kinds, margins = data["totals"], data["money"]["kinds"], data["money"]["margins"]
    by_month = data["scope"].period.by_month
    section = Section("money", _("Деньги"))
    periods = data["periods"]
    labels = [_bucket_label(p["bucket"], by_month) for p in periods]
    short = [_bucket_label(p["bucket"], by_month, short=True) for p in periods]
    section.panels.append(
        Panel(
            "offer-value",
            _("Предложения: отправлено и принято, ₽"),
            charts.lines(
                _("Сумма предложений"),
                short,
                [
                    (_("отправлено"), [p["sent_rub"] or 0 for p in periods]),
                    (_("принято"), [p["accepted_rub"] or 0 for p in periods]),
                ],
            ),
            [_("Период"), _("Отправлено"), _("Принято"), _("Доля принятого")],
            [
                [
                    Cell(p["bucket"], label),
                    rub(p["sent_rub"] or 0),
                    rub(p["accepted_rub"] or 0),
                    pct(_share(p["accepted_rub"] or 0, p["sent_rub"] or 0)),
                ]
                for label, p in zip(labels, periods, strict=True)
            ],
            note=_(
                "Отправлено %(sent)s в %(offers)s заявках, принято %(acc)s в %(accepted)s; "
                "средний чек %(check)s. Сумма отправленного — с вариантом, который страница "
                "клиента выбирает заранее (рекомендуемый, иначе первый)."
            )
            % {
                "sent": format_rub(totals["sent_rub"] or 0, kopecks=False),
                "offers": number_ru(totals["offers"]),
                "acc": format_rub(totals["accepted_rub"] or 0, kopecks=False),
                "accepted": number_ru(totals["accepted"]),
                "check": format_rub(totals["average_check_rub"], kopecks=False) or "—",
            },
        )
    )
    kind_labels = [str(PickKind(k).label) for k in PickKind.values]
    counts = [kinds[k] for k in PickKind.values]
    section.panels.append(
        Panel(
            "picks",
            _("Что выбирают клиенты"),
            charts.bars(_("Выбор клиентов"), kind_labels, [(_("позиций"), counts)]),
            [_("Вариант"), _("Позиций"), _("Доля")],
            [
                [text(label), n(c), pct(_share(c, kinds["n"]))]
                for label, c in zip(kind_labels, counts, strict=True)
            ],
            note=_(
                "Рекомендуемый вариант (лучше и дороже самого дешёвого не более чем на 30 %%) "
                "был в %(offered)s позициях, выбран в %(taken)s — %(share)s."
            )
            % {
                "offered": number_ru(kinds["rec_offered"]),
                "taken": number_ru(kinds["rec_taken"]),
                "share": percent_ru(kinds["recommended_share"]),
            },
        )
    )
    names = [f"{r['supplier_name'] or '—'} · {_quality(r['quality'])}" for r in margins]
    section.panels.append(
        Panel(
            "margins",
            _("Наценка на запчасти по поставщикам и качеству"),
            charts.hbars(
                _("Наценка на запчасти"),
                names,
                [r["margin_rub"] for r in margins],
                lambda v: format_rub(v or 0, kopecks=False),
                colour=charts.PALETTE[2],
            ),
            [
                _("Поставщик"),
                _("Качество"),
                _("Позиций"),
                _("Продажа"),
                _("Закупка"),
                _("Наценка"),
                _("Наценка, %"),
            ],
            [
                [
                    text(r["supplier_name"] or "—"),
                    text(_quality(r["quality"])),
                    n(r["n"]),
                    rub(r["sale_rub"]),
                    rub(r["purchase_rub"]),
                    rub(r["margin_rub"]),
                    pct(r["margin_pct"]),
                ]
                for r in margins
            ],
            note=_("По принятым предложениям; продажа без НДС, добавленного сверху."),
        )
    )
    return section


def _quality(code: str) -> str:
    from optima.models import Quality

    return str(Quality(code).label) if code in Quality.values else (code or "—")


def estimates_section(data: dict) -> Section:
    honesty = data["estimates"]
    section = Section("estimates", _("Честность расчёта"))
    for key, title, rows in (
        ("calibration-models", _("Скрытые повреждения по моделям"), honesty["models"]),
        ("calibration-parts", _("Скрытые повреждения по деталям"), honesty["parts"]),
    ):
        rows = rows[:15]
        section.panels.append(
            Panel(
                key,
                title,
                charts.bars(
                    title,
                    [r["name"] for r in rows],
                    [
                        (_("в обещанном диапазоне"), [r["inside"] for r in rows]),
                        (_("ниже"), [r["below"] for r in rows]),
                        (_("выше"), [r["above"] for r in rows]),
                    ],
                ),
                [
                    _("Модель") if key == "calibration-models" else _("Деталь"),
                    _("Расчётов"),
                    _("Обещано, %"),
                    _("Медиана найденного, %"),
                    _("В диапазоне"),
                    _("Ниже"),
                    _("Выше"),
                ],
                [
                    [
                        text(r["name"]),
                        n(r["n"]),
                        Cell(
                            f"{r['low_pct']:.1f}–{r['high_pct']:.1f}",
                            f"{number_ru(r['low_pct'], 1)}–{number_ru(r['high_pct'], 1)}",
                        ),
                        Cell(round(r["median_found_pct"], 1), percent_ru(r["median_found_pct"], 1)),
                        pct(r["inside_pct"]),
                        n(r["below"]),
                        n(r["above"]),
                    ]
                    for r in rows
                ],
                note=_(
                    "Изменение суммы после осмотра против диапазона скрытых повреждений, "
                    "обещанного клиенту в первом расчёте. «Выше» — калькулятор занижает."
                ),
            )
        )
    return section


def suppliers_section(data: dict) -> Section:
    days, deliveries = data["suppliers"]["days"], data["suppliers"]["deliveries"]
    section = Section("suppliers", _("Поставщики"))
    names = [r["name"] for r in days]
    section.panels.append(
        Panel(
            "supplier-answers",
            _("Ответы поставщиков: таймауты и ошибки"),
            charts.bars(
                _("Сбои поставщиков, %"),
                names,
                [
                    (_("таймауты, %"), [r["timeout_pct"] or 0 for r in days]),
                    (_("ошибки, %"), [r["error_pct"] or 0 for r in days]),
                ],
                lambda v: percent_ru(v),
            ),
            [_("Поставщик"), _("Запросов"), _("Средний ответ, мс"), _("Таймауты"), _("Ошибки")],
            [
                [
                    text(r["name"]),
                    n(r["answers"]),
                    Cell(
                        round(r["avg_ms"]) if r["avg_ms"] is not None else None,
                        number_ru(r["avg_ms"]),
                    ),
                    pct(r["timeout_pct"]),
                    pct(r["error_pct"]),
                ]
                for r in days
            ],
        )
    )
    section.panels.append(
        Panel(
            "supplier-speed",
            _("Среднее время ответа поставщика, мс"),
            charts.hbars(
                _("Среднее время ответа, мс"),
                names,
                [r["avg_ms"] or 0 for r in days],
                colour=charts.PALETTE[4],
            ),
            [_("Поставщик"), _("Ответил"), _("Средний ответ, мс")],
            [
                [
                    text(r["name"]),
                    n(r["answered"]),
                    Cell(
                        round(r["avg_ms"]) if r["avg_ms"] is not None else None,
                        number_ru(r["avg_ms"]),
                    ),
                ]
                for r in days
            ],
            note=_("Ответы из кэша не считаются: они не спрашивали поставщика."),
        )
    )
    section.panels.append(
        Panel(
            "supplier-prices",
            _("Цена против других поставщиков по тому же номеру"),
            charts.hbars(
                _("Дороже самого дешёвого, в среднем %"),
                names,
                [r["above_pct"] or 0 for r in days],
                lambda v: percent_ru(v, 1),
                colour=charts.PALETTE[1],
            ),
            [
                _("Поставщик"),
                _("Сравнений"),
                _("Самый дешёвый"),
                _("Дороже самого дешёвого, в среднем"),
            ],
            [
                [text(r["name"]), n(r["compared"]), pct(r["cheapest_pct"]), pct(r["above_pct"])]
                for r in days
            ],
        )
    )
    months = sorted({r["month"] for r in deliveries})
    suppliers = sorted({r["name"] for r in deliveries})
    by = {(r["month"], r["name"]): r for r in deliveries}
    section.panels.append(
        Panel(
            "supplier-deliveries",
            _("Поставки в срок и правда о наличии по месяцам"),
            charts.lines(
                _("Доля поставок в срок, %"),
                [_bucket_label(m, True, short=True) for m in months],
                [
                    (s, [by[(m, s)]["on_time_pct"] if (m, s) in by else None for m in months])
                    for s in suppliers
                ],
                lambda v: percent_ru(v),
            ),
            [
                _("Месяц"),
                _("Поставщик"),
                _("Отмечено"),
                _("В срок"),
                _("«В наличии» подтвердилось"),
            ],
            [
                [
                    Cell(r["month"], _bucket_label(r["month"], True)),
                    text(r["name"]),
                    n(r["marked"]),
                    pct(r["on_time_pct"]),
                    pct(r["stock_true_pct"]),
                ]
                for r in deliveries
            ],
        )
    )
    return section


def sections(data: dict) -> list[Section]:
    result = [speed_section(data), funnel_section(data), money_section(data)]
    if "estimates" in data:
        result += [estimates_section(data), suppliers_section(data)]
    return result


def panel_by_key(data: dict, key: str) -> Panel | None:
    for section in sections(data):
        for panel in section.panels:
            if panel.key == key:
                return panel
    return None
