import functools

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OptimaConfig(AppConfig):
    name = "optima"
    verbose_name = _("Подбор запчастей")

    def ready(self) -> None:
        from autoservice.personal_data import provider_register
        from leads.panels import register_panel

        from . import notifications, ordering_notifications  # noqa: F401  (outbox handlers)
        from .views import lead_panel

        register_panel(lead_panel)
        from .personal_data import OptimaProvider

        provider_register(OptimaProvider())
        from smartcalc.part_prices import provider_register as part_price_provider_register

        from .live_prices import supplier_part_prices

        part_price_provider_register(supplier_part_prices)
        # Sections of the customer card and of the driver's own page.
        from . import customer_panels  # noqa: F401, I001

        # Pages from the page cache: the offer (its versions) and the calculator's estimate,
        # which may use the shop's suppliers' prices (live_prices).
        from autoservice.pagecache import bump_on_change

        from . import models

        bump_on_change(
            models.Supplier,
            models.PricingSettings,
            models.MarkupRule,
            models.CrossReference,
            models.CustomerOffer,
        )
        bump_on_change(models.OfferVersion, shop_of=lambda version: version.offer.shop_id)
        bump_on_change(
            models.SupplierDiscount,
            models.KnownPrice,
            shop_of=lambda row: _supplier_shop(row.supplier_id),
        )


@functools.lru_cache(maxsize=4096)
def _supplier_shop(supplier_id: int) -> int | None:
    """A supplier account belongs to one shop for its whole life."""
    from .models import Supplier

    return Supplier.objects.filter(pk=supplier_id).values_list("shop_id", flat=True).first()
