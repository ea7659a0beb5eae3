from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sms"
    verbose_name = _("SMS клиентам")

    def ready(self) -> None:
        # The shop-event listener (writes SMS rows and outbox rows) and the outbox handler
        # (calls the gateway).
        from . import listeners, services  # noqa: F401
