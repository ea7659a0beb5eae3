from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    """Messages that bring drivers back: reminders by date or mileage and one-off campaigns,
    only with marketing consent and with an unsubscribe link in each."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"
    verbose_name = _("Возврат клиентов")

    def ready(self) -> None:
        # The shop-event listener (SMS states of its messages) and the e-mail outbox handler.
        from autoservice.personal_data import provider_register

        from . import services  # noqa: F401
        from .personal_data import CampaignsProvider

        provider_register(CampaignsProvider())
