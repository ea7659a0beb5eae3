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
        from . import customer_panels  # noqa: F401
