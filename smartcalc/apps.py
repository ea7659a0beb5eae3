from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmartcalcConfig(AppConfig):
    name = "smartcalc"
    verbose_name = _("Калькулятор ремонта")

    def ready(self) -> None:
        from autoservice.personal_data import provider_register
        from booking.selectors import estimate_check_register
        from leads.panels import register_panel

        from .views import lead_panel

        register_panel(lead_panel)
        from .personal_data import SmartcalcProvider

        provider_register(SmartcalcProvider())
        from .selectors import estimate_latest_for_lead

        # The driver's status page: a request sent from the calculator has its estimate.
        estimate_check_register(lambda lead: estimate_latest_for_lead(lead) is not None)
        # Sections of the customer card and of the driver's own page.
        from . import customer_panels  # noqa: F401, I001

        # The calculator's estimate comes from the page cache until one of its inputs changes:
        # the shop's rates and price list, or the platform's cars, norms, prices and limits.
        from autoservice.pagecache import bump_on_change

        from . import models

        bump_on_change(models.ShopRates, models.ShopPartPrice)
        bump_on_change(
            models.VehicleMake,
            models.VehicleModel,
            models.Generation,
            models.DataVersion,
            models.ClassFactor,
            models.LabourNorm,
            models.Dependency,
            models.HiddenDamageRange,
            models.ReferencePrice,
            models.EuroprotocolLimit,
        )
