from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Запись на визит")

    def ready(self) -> None:
        # The reminder e-mail's outbox handler, the booking panel on the lead page, and the
        # sections of the customer card and of the driver's own page.
        from . import customer_panels, notifications, panels  # noqa: F401
