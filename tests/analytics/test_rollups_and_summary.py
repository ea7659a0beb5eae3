"""The rollups follow what changed since their last run; the page's queries do not grow with
the history; the managers' weekly summary arrives once per week with its chart."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from analytics.models import LeadFact, RefreshState, Stage
from analytics.notifications import weekly_summaries_queue
from analytics.services import facts_rebuild, facts_refresh
from autoservice.models import Role
from leads import services as lead_services
from leads.models import LeadEvent, Status
from tests.factories import LeadFactory, MembershipFactory, ShopFactory

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def _lead(shop, when):
    lead, _created = lead_services.lead_create(
        shop=shop,
        channel="photo",
        data=lead_services.LeadInput(customer_name="Водитель", phone="+79161112233"),
        now=when,
    )
    return lead


def test_refresh_picks_up_a_lead_answered_after_the_last_run(db):
    shop = ShopFactory()
    advisor = MembershipFactory(shop=shop)
    lead = _lead(shop, timezone.now() - dt.timedelta(hours=3))
    facts_rebuild(shop=shop)
    fact = LeadFact.objects.get(lead=lead)
    assert fact.stage == Stage.LEAD and fact.response_s is None

    lead_services.lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    assert facts_refresh(shop=shop) == 1
    fact.refresh_from_db()
    assert fact.stage == Stage.CONTACTED
    assert fact.assignee_id == advisor.pk
    assert fact.response_s >= 3 * 3600 - 5


def test_refresh_leaves_untouched_leads_and_other_shops_alone(db):
    shop, other = ShopFactory(), ShopFactory()
    old = _lead(shop, timezone.now() - dt.timedelta(days=40))
    LeadEvent.objects.filter(lead=old).update(created_at=old.created_at)  # history, not today
    stranger = _lead(other, timezone.now() - dt.timedelta(hours=1))
    facts_rebuild(shop=shop)
    RefreshState.objects.filter(shop=shop).update(refreshed_at=timezone.now())
    assert facts_refresh(shop=shop) == 0
    assert not LeadFact.objects.filter(lead=stranger).exists()


def test_page_queries_do_not_grow_with_history(client, db, django_assert_max_num_queries):
    shop = ShopFactory()
    manager = MembershipFactory(shop=shop, role=Role.MANAGER)
    for hours in range(1, 40):
        LeadFactory(shop=shop, created_at=timezone.now() - dt.timedelta(hours=hours * 7))
    facts_rebuild(shop=shop)
    client.force_login(manager.user)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("analytics:analytics"))
    assert response.status_code == 200
    assert "39" in response.content.decode()


@pytest.fixture
def week(db):
    shop = ShopFactory(timezone="Europe/Moscow")
    manager = MembershipFactory(shop=shop, role=Role.MANAGER, user__email="boss@example.ru")
    advisor = MembershipFactory(shop=shop)
    now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=MSK)  # a Monday morning
    for day, answered in ((0, True), (2, True), (4, False)):  # 23, 25 and 27 November
        lead = _lead(shop, dt.datetime(2026, 11, 23 + day, 11, 0, tzinfo=MSK))
        if answered:
            lead_services.lead_change_status(
                lead=lead,
                status=Status.IN_PROGRESS,
                by=advisor,
                now=lead.created_at + dt.timedelta(minutes=8),
            )
    return {"shop": shop, "manager": manager, "now": now}


def test_weekly_summary_reaches_managers_once_with_a_chart(
    week, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://sto.example"
    with django_capture_on_commit_callbacks(execute=True):
        assert weekly_summaries_queue(now=week["now"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        weekly_summaries_queue(now=week["now"])  # beat ran twice: the same message
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["boss@example.ru"]
    assert "итоги недели 23.11–29.11.2026" in mail.subject
    assert "Заявок: 3" in mail.body
    assert "Медиана первого ответа: 8 мин" in mail.body
    assert "https://sto.example/staff/analytics/?from=2026-11-23&to=2026-11-29" in mail.body
    name, content, mimetype = mail.attachments[0]
    assert (name, mimetype) == ("leads-week.png", "image/png")
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG" and image.size == (560, 220)


def test_weekly_summary_is_scheduled_by_beat():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["analytics-weekly-summary"]["task"] == "analytics.tasks.weekly_summary"
    assert schedule["analytics-refresh"]["task"] == "analytics.tasks.refresh_facts"


@pytest.mark.parametrize(
    "values", [[5], [1, 2], [120, 240, 600, 1860, 48900], [7, 3, 3, 90, 1, 0, 45, 12, 8]]
)
@pytest.mark.parametrize("p", [0.5, 0.9])
def test_embedded_default_percentile_is_postgresqls_percentile_cont(db, values, p):
    """On SQLite (`make run`) the page computes medians in Python: the same figures."""
    from django.db import connection

    from analytics.selectors import percentile

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY x) FROM unnest(%s::int[]) x",
            [p, values],
        )
        expected = cursor.fetchone()[0]
    assert percentile(values, p) == pytest.approx(expected)


def test_platform_admin_reads_the_rollups_but_cannot_edit_them(client, db, admin_user):
    shop = ShopFactory()
    LeadFactory(shop=shop)
    facts_rebuild(shop=shop)
    client.force_login(admin_user)
    for model in ("leadfact", "offerpick", "estimatecheck", "supplierday", "refreshstate"):
        assert client.get(reverse(f"admin:analytics_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:analytics_{model}_add")).status_code == 403


def test_rebuilding_twice_changes_nothing(db):
    shop = ShopFactory()
    advisor = MembershipFactory(shop=shop)
    lead = _lead(shop, timezone.now() - dt.timedelta(hours=2))
    lead_services.lead_change_status(lead=lead, status=Status.IN_PROGRESS, by=advisor)
    facts_rebuild(shop=shop)
    first = list(LeadFact.objects.values("lead_id", "stage", "response_s", "in_sla"))
    facts_rebuild(shop=shop)
    assert list(LeadFact.objects.values("lead_id", "stage", "response_s", "in_sla")) == first


def test_manager_refreshes_now_and_keeps_the_period_advisor_may_not(client, db):
    shop = ShopFactory()
    manager = MembershipFactory(shop=shop, role=Role.MANAGER)
    advisor = MembershipFactory(shop=shop)
    lead = _lead(shop, timezone.now() - dt.timedelta(hours=1))
    url = reverse("analytics:analytics_refresh") + "?days=30"
    client.force_login(advisor.user)
    assert client.post(url).status_code == 403
    assert not LeadFact.objects.filter(lead=lead).exists()
    client.force_login(manager.user)
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:analytics") + "?days=30"
    assert LeadFact.objects.filter(lead=lead).exists()
