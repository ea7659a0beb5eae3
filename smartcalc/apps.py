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
        from . import customer_panels  # noqa: F401
