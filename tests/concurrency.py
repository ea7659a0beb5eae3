"""Run the same action from several threads at once, each with its own database connection,
as several web workers would; for tests marked django_db(transaction=True)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TypeVar

from django.apps import apps as django_apps
from django.db import connections

T = TypeVar("T")


def run_together(count: int, work: Callable[[int], T], *, timeout: float = 60) -> list[T]:
    """Start `count` threads on a barrier so they hit the server together; return each
    thread's result in order, or raise the first exception a thread raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = work(index)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()  # a thread's open connection would block the flush

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    if errors:
        raise errors[0]
    return results


def restore_reference_data(*, calculator: bool = False) -> None:
    """What a transactional test's flush removes and the driver's pages need: the platform's
    consent text (a data migration) and, for the calculator, the shipped repair data."""
    migration = importlib.import_module("autoservice.migrations.0003_platform_consent_text")
    migration.create_default(django_apps, None)
    if calculator:
        from smartcalc.loader import load_calc_data

        load_calc_data()  # idempotent: loads only what is missing
