"""Photos whose processing was never queued (the broker was down when they arrived) or never
finished are found by beat's minute sweep and processed; young ones are left alone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leads.models import LeadPhoto, PhotoState
from leads.photos import photos_pending_processing, photos_requeue_stuck
from tests.factories import LeadPhotoFactory


def _stuck(minutes: int, **kwargs) -> LeadPhoto:
    photo = LeadPhotoFactory(state=PhotoState.PROCESSING, **kwargs)
    LeadPhoto.objects.filter(pk=photo.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    return photo


def test_only_photos_stuck_for_two_minutes_are_pending(db):
    old = _stuck(5)
    older = _stuck(30)
    _stuck(1)  # its task may still be in the queue
    LeadPhotoFactory(state=PhotoState.READY)

    assert photos_pending_processing() == [older.pk, old.pk]


def test_sweep_makes_the_renditions_of_stuck_photos(db):
    photo = _stuck(5)

    assert photos_requeue_stuck() == 1  # tasks run inline in the test run

    photo.refresh_from_db()
    assert photo.state == PhotoState.READY
    assert photos_pending_processing() == []
