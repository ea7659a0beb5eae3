"""Parts suppliers: one adapter per kind of supplier API, one normalised `Offer` for all.

    from optima.suppliers import adapter_for
    result = adapter_for("abcp", supplier_id="abcp:id123", base_url=..., credentials=...,
                         timeout_s=5).search("86511-H5000", deadline=time.monotonic() + 5)

Every module of this package other than `base` and `offer` holds adapter kinds and is imported
here, so adding a supplier kind is adding one module.
"""

import importlib
import pkgutil

from .base import ADAPTERS, SearchResult, SearchState, SupplierAdapter, adapter_for, mask_url
from .offer import Offer, canonical_brand, normalize_number, quality_for_brand

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("base", "offer"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ADAPTERS",
    "Offer",
    "SearchResult",
    "SearchState",
    "SupplierAdapter",
    "adapter_for",
    "canonical_brand",
    "mask_url",
    "normalize_number",
    "quality_for_brand",
]
