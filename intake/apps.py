from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Приёмка автомобилей")

    def ready(self) -> None:
        from autoservice.personal_data import provider_register
        from leads.selectors import lead_panel_register

        from . import notifications  # noqa: F401  (outbox handler for the act e-mail)
        from .views import lead_panel

        lead_panel_register(lead_panel)
        from .personal_data import IntakeProvider

        provider_register(IntakeProvider())
        # The driver's status page shows «машина в сервисе» once the car is taken in.
        from booking.selectors import car_in_check_register

        from .models import IntakeRecord

        car_in_check_register(lambda lead: IntakeRecord.objects.filter(lead=lead).exists())
        # Sections of the customer card and of the driver's own page.
        from . import customer_panels  # noqa: F401
