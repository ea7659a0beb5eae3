"""The one-draft-per-lead rule arrives on a database that already holds leads with two
intake drafts (started twice before the rule): the migration keeps every draft and leaves
the lead with the one that has the most shots."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import LeadFactory

BEFORE = [("intake", "0003_keyed_seals")]
AFTER = [("intake", "0004_one_draft_per_lead")]


@pytest.mark.django_db(transaction=True)
def test_doubled_drafts_are_kept_and_the_fullest_stays_the_leads():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Template = apps.get_model("intake", "ShotTemplate")
    Record = apps.get_model("intake", "IntakeRecord")
    Shot = apps.get_model("intake", "IntakeShot")
    Spec = apps.get_model("intake", "ShotSpec")
    now = timezone.now()
    # Shops and leads are not rolled back with intake: their tables are as today.
    lead = LeadFactory()
    shop = lead.shop
    # The test's own template (a flushed test database may hold none of the shipped ones).
    template = Template.objects.create(shop_id=shop.pk, name="Кузов", family="migr-body")
    for position in range(3):
        Spec.objects.create(
            template=template,
            position=position,
            code=f"shot-{position}",
            name=f"Кадр {position}",
            instruction="Снимите",
        )

    def draft(n: int, shots: int):
        record = Record.objects.create(
            shop_id=shop.pk,
            lead_id=lead.pk,
            number=n,
            kind="intake",
            template=template,
            created_at=now,
        )
        for spec in Spec.objects.filter(template=template)[:shots]:
            Shot.objects.create(
                record=record,
                spec=spec,
                client_id=uuid.uuid4(),
                file="x.jpg",
                original_name="x.jpg",
                sha256="0" * 64,
                size_bytes=1,
                width=1,
                height=1,
            )
        return record

    fuller, newer = draft(1, shots=2), draft(2, shots=0)
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Record = apps.get_model("intake", "IntakeRecord")
    assert Record.objects.filter(pk__in=[fuller.pk, newer.pk]).count() == 2
    assert Record.objects.get(pk=fuller.pk).lead_id == lead.pk
    assert Record.objects.get(pk=newer.pk).lead_id is None
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
