from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Заявки")

    def ready(self) -> None:
        # Registers the outbox handlers for lead e-mails.
        from . import notifications  # noqa: F401
