from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessengersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messengers"
    verbose_name = _("Уведомления в мессенджеры")

    def ready(self) -> None:
        # The shop events listener (writes outbox rows in the event's transaction) and the
        # outbox handler that sends them through the shop's bots.
        from . import delivery, listeners  # noqa: F401
