from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Заявки")

    def ready(self) -> None:
        # Registers the outbox handlers for lead e-mails.
        from autoservice.personal_data import provider_register

        from . import customer_panels, notifications  # noqa: F401
        from .personal_data import LeadsProvider

        provider_register(LeadsProvider())
