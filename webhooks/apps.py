from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = _("Вебхуки")

    def ready(self) -> None:
        # The shop events listener (writes deliveries in the event's transaction) and the
        # outbox handler of the "endpoint switched off" e-mail to the managers.
        from . import listeners, notifications  # noqa: F401
