"""The analytics page's figures, aggregated in the database from the rollups.

One query per block (totals, the weekday × hour grid, advisors, sources with the funnel,
lost reasons, the periods, picks, margins, estimate checks, supplier days, deliveries):
the page's query count does not grow with the shop's history. Medians and the 90th
percentile are PostgreSQL's `percentile_cont`; on the embedded SQLite default the same
figures are computed from the rows (the demo's few thousand leads).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Max,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth, TruncWeek

from autoservice.models import Membership, Shop

from .models import (
    EstimateCheck,
    LeadFact,
    OfferPick,
    PickKind,
    RefreshState,
    Stage,
    SupplierDay,
)

ZERO = Decimal("0")
# Response-time bands of the distribution chart, in seconds: (upper bound, key).
BANDS = (
    (5 * 60, "lt5m"),
    (15 * 60, "lt15m"),
    (30 * 60, "lt30m"),
    (60 * 60, "lt1h"),
    (4 * 3600, "lt4h"),
    (24 * 3600, "lt24h"),
    (None, "ge24h"),
)
STAGES = [stage.value for stage in Stage]


class Percentile(Aggregate):
    """PostgreSQL's `percentile_cont(p) WITHIN GROUP (ORDER BY expr)`: linear interpolation
    between the two nearest rows, NULLs ignored."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The same interpolation as `percentile_cont`, for a list (SQLite, the tests)."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = (len(ordered) - 1) * p
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _pg() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def by_month(self) -> bool:
        return self.days > 120


@dataclass(frozen=True)
class Scope:
    """Whose figures: the whole shop (managers) or one advisor's own leads."""

    shop: Shop
    period: Period
    advisor: Membership | None = None


def _facts(scope: Scope) -> QuerySet[LeadFact]:
    facts = LeadFact.objects.filter(
        shop=scope.shop, local_date__gte=scope.period.start, local_date__lte=scope.period.end
    )
    if scope.advisor is not None:
        facts = facts.filter(assignee=scope.advisor)
    return facts


def _picks(scope: Scope) -> QuerySet[OfferPick]:
    picks = OfferPick.objects.filter(
        shop=scope.shop, local_date__gte=scope.period.start, local_date__lte=scope.period.end
    )
    if scope.advisor is not None:
        picks = picks.filter(assignee=scope.advisor)
    return picks


def _stage_counts() -> dict:
    return {f"stage_{k}": Count("pk", filter=Q(stage__gte=k)) for k in STAGES}


def _speed_aggregates() -> dict:
    return {
        "n": Count("pk"),
        "answered": Count("response_s"),
        "sla_met": Count("pk", filter=Q(in_sla=True)),
        "sla_known": Count("in_sla"),
    }


def _percentiles(queryset: QuerySet, keys: Sequence[str], field: str = "response_s") -> dict:
    """{group key tuple: (median, p90)} of `field` per group of `keys`."""
    if _pg():
        rows = queryset.values(*keys).annotate(
            p50=Percentile(field, 0.5), p90=Percentile(field, 0.9)
        )
        return {tuple(r[k] for k in keys): (r["p50"], r["p90"]) for r in rows}
    groups: dict[tuple, list[float]] = defaultdict(list)
    for row in queryset.exclude(**{f"{field}__isnull": True}).values(*keys, field):
        groups[tuple(row[k] for k in keys)].append(row[field])
    return {k: (percentile(v, 0.5), percentile(v, 0.9)) for k, v in groups.items()}


def _share(part: int, whole: int) -> float | None:
    return part * 100 / whole if whole else None


def _speed_sets_pg(scope: Scope) -> tuple[dict, dict, list[dict], list[dict]]:
    """The totals, the weekday × hour grid, the advisors and the sources in one scan of the
    period's facts: PostgreSQL's GROUPING SETS, each set told apart by GROUPING()."""
    stages = ", ".join(f"COUNT(*) FILTER (WHERE stage >= {k}) AS stage_{k}" for k in STAGES)
    bands, lower = [], 0
    for upper, key in BANDS:
        condition = f"response_s >= {lower}" + (f" AND response_s < {upper}" if upper else "")
        bands.append(f"COUNT(*) FILTER (WHERE {condition}) AS band_{key}")
        lower = upper or lower
    where = "shop_id = %s AND local_date >= %s AND local_date <= %s"
    params: list = [scope.shop.pk, scope.shop.pk, scope.period.start, scope.period.end]
    if scope.advisor is not None:
        where += " AND assignee_id = %s"
        params.append(scope.advisor.pk)
    sql = f"""
        SELECT GROUPING(assignee_id) AS g_assignee, GROUPING(source) AS g_source,
               GROUPING(local_weekday, local_hour) AS g_grid,
               assignee_id, source, local_weekday, local_hour,
               COUNT(*) AS n, COUNT(response_s) AS answered,
               COUNT(*) FILTER (WHERE in_sla) AS sla_met, COUNT(in_sla) AS sla_known,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s) AS p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s) AS p90,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s)
                   FILTER (WHERE after_hours) AS after_p50,
               COUNT(*) FILTER (WHERE after_hours) AS after_n,
               COUNT(response_s) FILTER (WHERE after_hours) AS after_answered,
               COUNT(*) FILTER (WHERE lost) AS lost_n,
               COUNT(offer_sent_rub) AS offers, SUM(offer_sent_rub) AS sent_rub,
               COUNT(offer_accepted_rub) AS accepted, SUM(offer_accepted_rub) AS accepted_rub,
               {stages}, {", ".join(bands)},
               (SELECT refreshed_at FROM {RefreshState._meta.db_table} WHERE shop_id = %s)
                   AS refreshed_at
        FROM {LeadFact._meta.db_table}
        WHERE {where}
        GROUP BY GROUPING SETS ((), (assignee_id), (source), (local_weekday, local_hour))
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    totals, grid, advisors, sources = None, {}, [], []
    for row in rows:
        if not row["g_grid"]:
            grid[(row["local_weekday"], row["local_hour"])] = (row["n"], row["p50"])
        elif not row["g_assignee"]:
            advisors.append(row)
        elif not row["g_source"]:
            sources.append(row)
        else:
            totals = row
    if totals is None:  # no fact in the period: the empty set still answers with zeros
        totals = {name: None for name in names} | {
            key: 0
            for key in names
            if key not in ("p50", "p90", "after_p50", "sent_rub", "accepted_rub", "refreshed_at")
        }
    people = {
        m.pk: m.user
        for m in Membership.objects.filter(
            pk__in=[r["assignee_id"] for r in advisors if r["assignee_id"]]
        ).select_related("user")
    }
    for row in advisors:
        user = people.get(row["assignee_id"])
        row["first"], row["last"], row["login"] = (
            (user.first_name, user.last_name, user.username) if user else (None, None, None)
        )
    advisors.sort(key=lambda r: (r["assignee_id"] is None, r["assignee_id"] or 0))
    sources.sort(key=lambda r: (-r["n"], r["source"]))
    return totals, grid, advisors, sources


def speed_and_funnel(scope: Scope, *, grouping_sets: bool | None = None) -> dict:
    """`grouping_sets`: one scan on PostgreSQL (the default there); the portable queries
    otherwise (SQLite, and the test that proves both give the same figures)."""
    if grouping_sets is None:
        grouping_sets = _pg()
    if grouping_sets:
        totals, grid, advisor_rows, source_rows = _speed_sets_pg(scope)
        return _speed_rest(scope, totals, grid, advisor_rows, source_rows)
    facts = _facts(scope)
    bands = {}
    lower = 0
    for upper, key in BANDS:
        condition = Q(response_s__gte=lower)
        if upper is not None:
            condition &= Q(response_s__lt=upper)
        bands[f"band_{key}"] = Count("pk", filter=condition)
        lower = upper or lower
    extra = {}
    if _pg():
        extra = {
            "p50": Percentile("response_s", 0.5),
            "p90": Percentile("response_s", 0.9),
            "after_p50": Percentile("response_s", 0.5, filter=Q(after_hours=True)),
        }
    totals = facts.aggregate(
        **_speed_aggregates(),
        **_stage_counts(),
        **bands,
        **extra,
        after_n=Count("pk", filter=Q(after_hours=True)),
        after_answered=Count("response_s", filter=Q(after_hours=True)),
        lost_n=Count("pk", filter=Q(lost=True)),
        offers=Count("offer_sent_rub"),
        sent_rub=Sum("offer_sent_rub"),
        accepted=Count("offer_accepted_rub"),
        accepted_rub=Sum("offer_accepted_rub"),
        # When the rollups were last brought up to date, in the same round trip.
        refreshed_at=Max(
            Subquery(RefreshState.objects.filter(shop=scope.shop).values("refreshed_at")[:1])
        ),
    )
    if not _pg():
        values = list(facts.values_list("response_s", "after_hours"))
        totals["p50"] = percentile([v for v, _a in values], 0.5)
        totals["p90"] = percentile([v for v, _a in values], 0.9)
        totals["after_p50"] = percentile([v for v, after in values if after], 0.5)

    if _pg():
        rows = facts.values("local_weekday", "local_hour").annotate(
            n=Count("pk"), p50=Percentile("response_s", 0.5)
        )
        grid = {(r["local_weekday"], r["local_hour"]): (r["n"], r["p50"]) for r in rows}
    else:
        pct = _percentiles(facts, ["local_weekday", "local_hour"])
        grid = {
            (r["local_weekday"], r["local_hour"]): (
                r["n"],
                pct.get((r["local_weekday"], r["local_hour"]), (None, None))[0],
            )
            for r in facts.values("local_weekday", "local_hour").annotate(n=Count("pk"))
        }

    advisor_rows = list(
        facts.values(
            "assignee_id",
            first=F("assignee__user__first_name"),
            last=F("assignee__user__last_name"),
            login=F("assignee__user__username"),
        )
        .annotate(**_speed_aggregates(), **_advisor_percentiles())
        .order_by("assignee_id")
    )
    if not _pg():
        pct = _percentiles(facts, ["assignee_id"])
        for row in advisor_rows:
            row["p50"], row["p90"] = pct.get((row["assignee_id"],), (None, None))

    source_rows = list(
        facts.values("source")
        .annotate(
            **_speed_aggregates(),
            **_stage_counts(),
            **_advisor_percentiles(),
            lost_n=Count("pk", filter=Q(lost=True)),
            after_n=Count("pk", filter=Q(after_hours=True)),
        )
        .order_by("-n", "source")
    )
    if not _pg():
        pct = _percentiles(facts, ["source"])
        for row in source_rows:
            row["p50"], row["p90"] = pct.get((row["source"],), (None, None))

    return _speed_rest(scope, totals, grid, advisor_rows, source_rows)


def _speed_rest(scope: Scope, totals, grid, advisor_rows, source_rows) -> dict:
    """The lost reasons and the periods, and the figures derived from the totals."""
    facts = _facts(scope)
    totals["unanswered"] = totals["n"] - totals["answered"]
    totals["sla_share"] = _share(totals["sla_met"], totals["sla_known"])
    totals["average_check_rub"] = (
        (totals["accepted_rub"] / totals["accepted"]).quantize(Decimal("0.01"))
        if totals["accepted"]
        else None
    )
    lost_reasons = list(
        facts.filter(lost=True)
        .values("lost_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "lost_reason")[:12]
    )
    trunc = TruncMonth if scope.period.by_month else TruncWeek
    periods = list(
        facts.annotate(bucket=trunc("local_date"))
        .values("bucket")
        .annotate(
            n=Count("pk"),
            **{f"stage_{k}": Count("pk", filter=Q(stage__gte=k)) for k in (3, 6)},
            sla_met=Count("pk", filter=Q(in_sla=True)),
            sla_known=Count("in_sla"),
            sent_rub=Sum("offer_sent_rub"),
            accepted_rub=Sum("offer_accepted_rub"),
        )
        .order_by("bucket")
    )
    return {
        "totals": totals,
        "grid": grid,
        "advisors": advisor_rows,
        "sources": source_rows,
        "lost_reasons": lost_reasons,
        "periods": periods,
    }


def _advisor_percentiles() -> dict:
    if not _pg():
        return {}
    return {"p50": Percentile("response_s", 0.5), "p90": Percentile("response_s", 0.9)}


def money(scope: Scope) -> dict:
    """Picks by kind and the margin by supplier and tier, from one grouped query."""
    rows = list(
        _picks(scope)
        .values("supplier_name", "quality", "kind", "recommended_offered", "recommended_picked")
        .annotate(n=Count("pk"), sale_rub=Sum("sale_rub"), purchase_rub=Sum("purchase_rub"))
    )
    kinds = {kind: 0 for kind in PickKind.values} | {"n": 0, "rec_offered": 0, "rec_taken": 0}
    margins: dict[tuple[str, str], dict] = {}
    for row in rows:
        kinds["n"] += row["n"]
        kinds[row["kind"]] += row["n"]
        if row["recommended_offered"]:
            kinds["rec_offered"] += row["n"]
            kinds["rec_taken"] += row["n"] if row["recommended_picked"] else 0
        entry = margins.setdefault(
            (row["supplier_name"], row["quality"]),
            {
                "supplier_name": row["supplier_name"],
                "quality": row["quality"],
                "n": 0,
                "sale_rub": ZERO,
                "purchase_rub": ZERO,
            },
        )
        entry["n"] += row["n"]
        entry["sale_rub"] += row["sale_rub"]
        entry["purchase_rub"] += row["purchase_rub"]
    kinds["recommended_share"] = _share(kinds["rec_taken"], kinds["rec_offered"])
    result = [margins[key] for key in sorted(margins)]
    for row in result:
        row["margin_rub"] = row["sale_rub"] - row["purchase_rub"]
        row["margin_pct"] = _share(row["margin_rub"], row["sale_rub"])
    return {"kinds": kinds, "margins": result}


def _calibration(rows: Iterable[dict], key: str) -> list[dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    result = []
    for name, items in groups.items():
        found = [float(r["found_pct"]) for r in items]
        below = sum(1 for r in items if r["found_pct"] < r["promised_low_pct"])
        above = sum(1 for r in items if r["found_pct"] > r["promised_high_pct"])
        result.append(
            {
                "name": name,
                "n": len(items),
                "inside": len(items) - below - above,
                "below": below,
                "above": above,
                "inside_pct": _share(len(items) - below - above, len(items)),
                "low_pct": statistics.fmean(float(r["promised_low_pct"]) for r in items),
                "high_pct": statistics.fmean(float(r["promised_high_pct"]) for r in items),
                "median_found_pct": statistics.median(found),
            }
        )
    result.sort(key=lambda r: (-r["n"], r["name"]))
    return result


def estimate_honesty(scope: Scope) -> dict:
    rows = list(
        EstimateCheck.objects.filter(
            shop=scope.shop,
            local_date__gte=scope.period.start,
            local_date__lte=scope.period.end,
        ).values(
            "model_name", "part", "part_name", "promised_low_pct", "promised_high_pct", "found_pct"
        )
    )
    whole = [r for r in rows if not r["part"]]
    return {
        "models": _calibration(whole, "model_name"),
        "parts": _calibration([r for r in rows if r["part"]], "part_name"),
        "count": len(whole),
    }


def suppliers(scope: Scope) -> dict:
    """Per supplier over the period, and its deliveries per month: one grouped query."""
    rows = list(
        SupplierDay.objects.filter(
            shop=scope.shop, day__gte=scope.period.start, day__lte=scope.period.end
        )
        .annotate(month=TruncMonth("day"))
        .values("supplier_id", "month", name=F("supplier__name"))
        .annotate(
            answers=Sum("answers"),
            answered=Sum("answered"),
            timeouts=Sum("timeouts"),
            errors=Sum("errors"),
            ms=Sum("answered_ms_sum"),
            compared=Sum("compared"),
            cheapest=Sum("cheapest"),
            above=Sum("above_cheapest_pct_sum"),
            marked=Sum("marked"),
            on_time=Sum("on_time"),
            claims=Sum("stock_claims"),
            stock_true=Sum("stock_true"),
        )
        .order_by("name", "month")
    )
    keys = ("answers", "answered", "timeouts", "errors", "ms", "compared", "cheapest", "above")
    totals: dict[int, dict] = {}
    deliveries = []
    for row in rows:
        entry = totals.setdefault(
            row["supplier_id"], {"supplier_id": row["supplier_id"], "name": row["name"]}
        )
        for key in keys:
            entry[key] = entry.get(key, 0) + row[key]
        if row["marked"]:
            deliveries.append(
                {
                    "month": row["month"],
                    "supplier_id": row["supplier_id"],
                    "name": row["name"],
                    "marked": row["marked"],
                    "on_time_pct": _share(row["on_time"], row["marked"]),
                    "stock_true_pct": _share(row["stock_true"], row["claims"]),
                }
            )
    days = [entry for entry in totals.values() if entry["answers"]]
    for row in days:
        row["avg_ms"] = row["ms"] / row["answered"] if row["answered"] else None
        row["timeout_pct"] = _share(row["timeouts"], row["answers"])
        row["error_pct"] = _share(row["errors"], row["answers"])
        row["cheapest_pct"] = _share(row["cheapest"], row["compared"])
        row["above_pct"] = float(row["above"]) / row["compared"] if row["compared"] else None
    deliveries.sort(key=lambda r: (r["month"], r["name"]))
    return {"days": days, "deliveries": deliveries}


def refreshed_at(shop: Shop) -> dt.datetime | None:
    state = RefreshState.objects.filter(shop=shop).first()
    return state.refreshed_at if state else None


def dashboard(scope: Scope) -> dict:
    """Everything the page shows; advisors get their own leads' speed, funnel and money."""
    data = {"scope": scope, **speed_and_funnel(scope), "money": money(scope)}
    if scope.advisor is None:
        data["estimates"] = estimate_honesty(scope)
        data["suppliers"] = suppliers(scope)
    # An empty period has no row to carry it: then it is asked for on its own.
    data["refreshed_at"] = data["totals"]["refreshed_at"] or refreshed_at(scope.shop)
    return data
