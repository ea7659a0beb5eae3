"""Which europrotocol limits are in force on a day and in a region, and whether an estimate
fits them, to the kopeck."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smartcalc.europrotocol import fit_limits, limits_in_force
from smartcalc.models import EuroprotocolCondition, EuroprotocolLimit

D = Decimal
PAPER = EuroprotocolCondition.PAPER
APP_DISAGREEMENT = EuroprotocolCondition.APP_DISAGREEMENT
APP_NO_DISAGREEMENT = EuroprotocolCondition.APP_NO_DISAGREEMENT

NEW_RULES_DAY = dt.date(2025, 7, 5)  # 200 000 ₽ through the app even with a disagreement


def rule(condition, amount, valid_from, valid_to=None, region=""):
    return EuroprotocolLimit.objects.create(
        region=region,
        condition=condition,
        amount_rub=D(amount),
        valid_from=valid_from,
        valid_to=valid_to,
        title=f"{condition} {amount} {region or 'РФ'}",
        conditions_text="Оба водителя согласны с обстоятельствами ДТП.",
        source="Закон об ОСАГО, ст. 11.1",
    )


@pytest.fixture
def limits(db):
    # Only the rules written here, whatever the shipped data loaded into the test database;
    # the test's transaction brings them back afterwards.
    EuroprotocolLimit.objects.all().delete()
    return {
        "paper": rule(PAPER, "100000", dt.date(2019, 6, 1)),
        "app_disagreement": rule(APP_DISAGREEMENT, "200000", NEW_RULES_DAY),
        "app_no_disagreement": rule(APP_NO_DISAGREEMENT, "400000", dt.date(2019, 6, 1)),
        # Expired: the app with a disagreement used to be capped at the paper limit.
        "app_disagreement_old": rule(
            APP_DISAGREEMENT, "100000", dt.date(2019, 6, 1), NEW_RULES_DAY - dt.timedelta(days=1)
        ),
        # A regional rule for the paper form (an invented amount, to prove the override).
        "paper_moscow": rule(PAPER, "250000", dt.date(2021, 1, 1), region="Москва"),
        "paper_kazan": rule(PAPER, "300000", dt.date(2021, 1, 1), region="Татарстан"),
    }


def amounts(rules):
    return [(rule.condition, rule.amount_rub) for rule in rules]


def test_all_russia_rules_in_force_sorted_by_amount(limits):
    in_force = limits_in_force(region="Тверская область", on=dt.date(2025, 8, 1))

    assert in_force == [limits["paper"], limits["app_disagreement"], limits["app_no_disagreement"]]
    assert amounts(in_force) == [
        (PAPER, D("100000.00")),
        (APP_DISAGREEMENT, D("200000.00")),
        (APP_NO_DISAGREEMENT, D("400000.00")),
    ]


def test_region_rule_replaces_the_all_russia_rule_for_its_condition(limits):
    in_force = limits_in_force(region="Москва", on=dt.date(2025, 8, 1))

    # 200 000 < 250 000 (Москва, paper) < 400 000: sorted by amount, not by condition.
    assert in_force == [
        limits["app_disagreement"],
        limits["paper_moscow"],
        limits["app_no_disagreement"],
    ]
    assert limits["paper"] not in in_force
    assert limits["paper_kazan"] not in in_force


def test_region_rule_wins_whatever_the_start_dates(limits, db):
    # A later all-Russia paper rule must not take the place of Moscow's own earlier one.
    later = rule(PAPER, "120000", dt.date(2024, 1, 1), region="")
    limits["paper"].valid_to = dt.date(2023, 12, 31)
    limits["paper"].save()

    moscow = limits_in_force(region="Москва", on=dt.date(2025, 8, 1))
    elsewhere = limits_in_force(region="Тверская область", on=dt.date(2025, 8, 1))

    assert limits["paper_moscow"] in moscow and later not in moscow
    assert later in elsewhere and limits["paper_moscow"] not in elsewhere


def test_newest_of_overlapping_all_russia_rules_wins(limits):
    # A new paper amount entered without closing the 2019 rule: both are open-ended.
    newer = rule(PAPER, "150000", dt.date(2024, 1, 1))
    # An older rule typed in afterwards: the start date decides, not the order of entry.
    older = rule(PAPER, "90000", dt.date(2020, 1, 1))

    in_force = limits_in_force(region="Тверская область", on=dt.date(2025, 8, 1))
    before = limits_in_force(region="Тверская область", on=dt.date(2023, 12, 31))
    first_day = limits_in_force(region="Тверская область", on=dt.date(2024, 1, 1))

    assert newer in in_force and limits["paper"] not in in_force and older not in in_force
    assert older in before and newer not in before and limits["paper"] not in before
    assert newer in first_day
    assert fit_limits(D("120000"), [r for r in in_force if r.condition == PAPER])[0].fits


def test_newest_of_overlapping_region_rules_wins_over_the_older_regional_one(limits):
    newer_moscow = rule(PAPER, "275000", dt.date(2024, 3, 1), region="Москва")

    in_force = limits_in_force(region="Москва", on=dt.date(2025, 8, 1))
    before = limits_in_force(region="Москва", on=dt.date(2024, 2, 29))

    assert newer_moscow in in_force and limits["paper_moscow"] not in in_force
    assert limits["paper_moscow"] in before and newer_moscow not in before
    assert limits["paper"] not in in_force and limits["paper"] not in before


def test_region_rule_not_yet_in_force_leaves_the_all_russia_rule(limits):
    in_force = limits_in_force(region="Москва", on=dt.date(2020, 12, 31))

    assert limits["paper"] in in_force
    assert limits["paper_moscow"] not in in_force


def test_rule_starting_tomorrow_is_not_in_force(limits):
    in_force = limits_in_force(region="Москва", on=NEW_RULES_DAY - dt.timedelta(days=1))

    assert limits["app_disagreement"] not in in_force  # starts tomorrow
    assert limits["app_disagreement_old"] in in_force  # its last day


def test_rule_that_ended_yesterday_is_not_in_force(limits):
    in_force = limits_in_force(region="Москва", on=NEW_RULES_DAY)

    assert limits["app_disagreement_old"] not in in_force
    assert limits["app_disagreement"] in in_force  # its first day


def test_nothing_in_force_before_the_first_rule(limits):
    assert limits_in_force(region="Москва", on=dt.date(2019, 5, 31)) == []


def test_estimate_exactly_at_the_limit_fits(limits):
    (fit,) = fit_limits(D("100000.00"), [limits["paper"]])

    assert fit.limit == limits["paper"]
    assert fit.fits
    assert fit.margin_rub == D("0.00")


def test_estimate_one_kopeck_over_the_limit_does_not_fit(limits):
    (fit,) = fit_limits(D("100000.01"), [limits["paper"]])

    assert not fit.fits
    assert fit.margin_rub == D("-0.01")


def test_margin_is_the_limit_minus_the_estimate(limits):
    in_force = limits_in_force(region="Тверская область", on=dt.date(2025, 8, 1))
    fits = fit_limits(D("163122.80"), in_force)

    assert [(fit.limit, fit.fits, fit.margin_rub) for fit in fits] == [
        (limits["paper"], False, D("-63122.80")),  # 100 000 − 163 122.80
        (limits["app_disagreement"], True, D("36877.20")),  # 200 000 − 163 122.80
        (limits["app_no_disagreement"], True, D("236877.20")),  # 400 000 − 163 122.80
    ]


def test_no_limits_fit_nothing():
    assert fit_limits(D("1000.00"), []) == []
