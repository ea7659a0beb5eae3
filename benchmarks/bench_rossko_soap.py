"""Rossko over SOAP: what zeep costs per search. The same demo supplier (one process, no
latency) is asked for the same 10 numbers through the Rossko adapter (one GetSearch envelope,
built and read by zeep from the shipped WSDL) and through the Armtek adapter (one JSON
ws_search/search), one request each; the figure is Rossko's median time per search and its
ratio to Armtek's in the same run. Also the WSDL's one-time parse, paid once per process."""

from __future__ import annotations

import os
import time

import common  # noqa: F401  (sys.path and DJANGO_SETTINGS_MODULE)
from common import median_ms, report

os.environ.setdefault("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")

import django  # noqa: E402

django.setup()

from optima.demo_supplier import start_in_thread  # noqa: E402
from optima.suppliers import adapter_for  # noqa: E402
from optima.suppliers.rossko import wsdl_document  # noqa: E402

started = time.perf_counter()
wsdl_document()
wsdl_ms = (time.perf_counter() - started) * 1000

with start_in_thread(seed=6) as demo:
    numbers = demo.catalogue.oem_numbers[:10]
    rossko = adapter_for(
        "rossko",
        supplier_id="bench:rossko",
        base_url=demo.url + "/service/v2.1",
        credentials=demo.rossko_credentials,
        timeout_s=5,
    )
    armtek = adapter_for(
        "armtek",
        supplier_id="bench:armtek",
        base_url=demo.url,
        credentials=demo.armtek_credentials,
        timeout_s=5,
    )

    def run(adapter) -> None:
        for number in numbers:
            result = adapter.search(number, with_analogues=False)
            assert result.state in ("answered", "no_stock"), result.message

    rossko_ms = median_ms(lambda: run(rossko), repeat=15) / len(numbers)
    armtek_ms = median_ms(lambda: run(armtek), repeat=15) / len(numbers)

ratio = rossko_ms / armtek_ms
print(f"Rossko {rossko_ms:.2f} ms/search, Armtek {armtek_ms:.2f} ms/search, WSDL {wsdl_ms:.0f} ms")
report("rossko: SOAP search vs Armtek JSON (ratio)", round(ratio, 2), "×", "≤ 3", ratio <= 3)
report("rossko: one SOAP search on loopback", round(rossko_ms, 2), "ms", "≤ 50", rossko_ms <= 50)
report("rossko: WSDL parse, once per process", round(wsdl_ms), "ms", "≤ 500", wsdl_ms <= 500)
