"""The demo parts supplier: a real HTTP service speaking ABCP, Armtek, Autoeuro, Parts-Soft and
Rossko (SOAP) on one loopback port.

The product's demo data, the tests and the benchmarks search it over HTTP exactly as they would
search a real supplier; the adapters do not know it is a demo. Each instance generates its own
catalogue from a seed (same seed → same parts, prices, stock and delivery), and can be made slow,
hanging, failing or garbled to show how the search behaves when a supplier misbehaves.

    python -m optima.demo_supplier --port 8701 --seed 1 --name "Автодеталь" --latency-ms 50:400

or, in tests and benchmarks, `start_in_thread(seed=1, latency_ms="50:400")`.

Endpoints (all on 127.0.0.1):
    GET  /search/brands?number=&userlogin=&userpsw=<md5>              ABCP
    GET  /search/articles?number=&brand=&withOutAnalogs=0|1&useOnlineStocks=0|1&...   ABCP
    POST /search/batch  search[i][number], search[i][brand] (≤ 100)     ABCP
    POST /ws_search/assortment_search?format=json   (HTTP Basic)       Armtek
    POST /ws_search/search?format=json              (HTTP Basic)       Armtek
    POST /api/v2/json/search_brands|search_items|create_order|get_orders  (key header) Autoeuro
    GET  /api/v1/search/get_brands_by_oem|get_offers_by_oem_and_make_name  (?api_key=)  Parts-Soft
    POST /service/v2.1/GetSearch|GetCheckoutDetails|GetCheckout|GetOrders  Rossko (SOAP)
    GET  /ws_ping/index, GET /                                         liveness, no auth
    GET  /pricelist.csv                                the catalogue as a price list, no auth

The package: `parts` (the catalogue's raw material, DEMO DATA), `catalogue` (what one seed
generates from it), `formats` (what goes over the wire; `rest_kinds` for Autoeuro and
Parts-Soft), `server` (the HTTP service and
`start_in_thread`), `__main__` (the command line).
"""

from .catalogue import DemoCatalogue, DemoOffer, DemoPart, demo_key
from .parts import DEMO_PARTS, ON_ORDER, WAREHOUSES
from .server import DemoConfig, DemoSupplierHandle, start_in_thread

__all__ = [
    "DEMO_PARTS",
    "ON_ORDER",
    "WAREHOUSES",
    "DemoCatalogue",
    "DemoConfig",
    "DemoOffer",
    "DemoPart",
    "DemoSupplierHandle",
    "demo_key",
    "start_in_thread",
]
