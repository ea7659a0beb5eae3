"""The demo suppliers speak the documented shapes (Armtek's ARRAY, PARNR and MINBM; ABCP's
used and clearance lines, deadlineReplace, online warehouses, batch search and error codes),
and the demo shop shows them."""

from __future__ import annotations

import base64
import io
import json
import urllib.request

from optima import demo, services
from optima.demo_supplier import DemoCatalogue, start_in_thread
from optima.demo_supplier.formats import abcp_condition, is_online_stock
from optima.models import Supplier
from optima.suppliers import adapter_for, normalize_number
from tests.factories import OfferVersionFactory

ARMTEK = {"login": "demo", "password": "demo", "VKORG": "4000", "KUNNR_RG": "43000001"}


def _armtek_raw(url: str, method: str, form: str) -> dict:
    request = urllib.request.Request(
        f"{url}/ws_search/{method}?format=json",
        data=form.encode(),
        headers={"Authorization": "Basic " + base64.b64encode(b"demo:demo").decode()},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
        return json.load(response)


def test_demo_armtek_answers_in_the_array_shape_with_partner_stock_and_lots():
    with start_in_thread(seed=2) as handle:
        number = handle.catalogue.oem_numbers[0]
        raw = _armtek_raw(handle.url, "assortment_search", f"VKORG=4000&PIN={number}")
        assert set(raw["RESP"]) == {"ARRAY"} and raw["RESP"]["ARRAY"]
        armtek = adapter_for(
            "armtek", supplier_id="a", base_url=handle.url, credentials=ARMTEK, timeout_s=5
        )
        offers = [o for n in handle.catalogue.oem_numbers for o in armtek.search(n).offers]
    partner = [o for o in offers if o.own_stock is False]
    assert partner and all(o.order_ref["PARNR"].startswith("P") for o in partner)
    assert any(o.own_stock is True for o in offers)
    assert any(o.min_qty > o.multiple > 1 for o in offers)  # clips: by 5, from 10


def test_demo_abcp_lists_used_and_clearance_lines_and_terms_in_words():
    catalogue = DemoCatalogue(1)
    with start_in_thread(seed=1) as handle:
        abcp = adapter_for(
            "abcp",
            supplier_id="b",
            base_url=handle.url,
            credentials={"login": "demo", "password": "demo"},
            timeout_s=5,
        )
        result = abcp.search("66311-H5000")  # searched by the demo shop (`make run`)
        offline = adapter_for(
            "abcp",
            supplier_id="b",
            base_url=handle.url,
            credentials={"login": "demo", "password": "demo", "use_online_stocks": False},
            timeout_s=5,
        ).search("66311-H5000")
    conditions = {o.condition for o in result.offers}
    assert {"new", "used", "clearance"} <= conditions
    assert all(o.wear_pct for o in result.offers if o.condition == "used")
    on_order = [o for o in result.offers if o.qty_on_order]
    assert on_order and all(o.delivery_term_text.endswith("раб.дн.") for o in on_order)
    # Without online warehouses the lines on order from other sellers are not listed.
    part = next(p for p in catalogue.brands("66311-H5000") if p.tier == "original")
    online = [o for o in catalogue.offers(part, with_analogues=True) if is_online_stock(o)]
    assert online and len(offline.offers) == len(result.offers) - len(online)
    assert not any(o.qty_on_order for o in offline.offers)
    assert sum(abcp_condition(o)[0] != "new" for o in catalogue.all_offers) > 0


def test_demo_abcp_can_refuse_the_servers_address():
    with start_in_thread(seed=1, abcp_error_code=103) as handle:
        result = adapter_for(
            "abcp",
            supplier_id="b",
            base_url=handle.url,
            credentials={"login": "demo", "password": "demo"},
            timeout_s=5,
        ).search("66311-H5000")
    assert result.state == "config_error"
    assert "адрес сервера не разрешён у поставщика" in result.message


def test_demo_abcp_answers_a_batch_per_pair():
    with start_in_thread(seed=1) as handle:
        catalogue = handle.catalogue
        first, second = catalogue.oem_numbers[:2]
        brand = next(p.brand_abcp for p in catalogue.brands(first) if p.tier == "original")
        results = adapter_for(
            "abcp",
            supplier_id="b",
            base_url=handle.url,
            credentials={"login": "demo", "password": "demo", "batch": True},
            timeout_s=5,
        ).search_batch([(brand, first), ("НЕТ ТАКОГО", second)])
    assert [r.state for r in results] == ["answered", "no_stock"]
    assert {o.number_key for o in results[0].offers} == {normalize_number(first)}
    assert not any(o.is_cross for o in results[0].offers)  # no analogues in a batch


def test_the_demo_shop_has_an_armtek_contract_whose_quota_is_spent(shop):
    OfferVersionFactory(offer__shop=shop, offer__lead__shop=shop)  # demo offers exist: no search
    demo.load(shop=shop, stdout=io.StringIO())
    spent = Supplier.objects.get(shop=shop, name=demo.SPENT_QUOTA_SUPPLIER)
    quota = services.supplier_quota(spent)
    assert quota.spent and quota.used == quota.limit == demo.SPENT_QUOTA_LIMIT
    armtek = Supplier.objects.get(shop=shop, name="Армтек")
    assert not services.supplier_quota(armtek).spent
    assert armtek.options["KUNNR_ZA"] and armtek.base_url == spent.base_url


def test_a_number_is_stocked_once_as_an_original():
    from optima.demo_supplier.catalogue import DemoCatalogue

    catalogue = DemoCatalogue(1)
    originals = [p.key for p in catalogue.parts if p.tier == "original"]
    assert len(originals) == len(set(originals)) == len(catalogue.stocked_numbers)
