from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Запись на визит")

    def ready(self) -> None:
        # The reminder e-mail's outbox handler and the booking panel on the lead page.
        from . import notifications, panels  # noqa: F401
