"""Demo CRM connections for `manage.py demo`: both connectors filled in but switched off, so
the settings page shows what a manager fills in, and nothing leaves the machine."""

from __future__ import annotations

from typing import TextIO

from autoservice.models import Shop

from .models import CrmConnection, CrmKind

# Placeholders of the shape the CRMs give (not real accounts): switched off, never called.
DEMO_BITRIX_WEBHOOK = "https://demo-sto.bitrix24.ru/rest/1/demo0webhook0code/"
DEMO_AMO_ACCOUNT = "https://demo-sto.amocrm.ru"


def load(*, shop: Shop, stdout: TextIO | None = None) -> None:
    CrmConnection.objects.get_or_create(
        shop=shop,
        kind=CrmKind.BITRIX24,
        defaults={"enabled": False, "webhook_url": DEMO_BITRIX_WEBHOOK},
    )
    CrmConnection.objects.get_or_create(
        shop=shop, kind=CrmKind.AMOCRM, defaults={"enabled": False, "base_url": DEMO_AMO_ACCOUNT}
    )
    if stdout is not None:
        stdout.write("Подключения CRM: Битрикс24 и amoCRM заполнены для примера и выключены.")
