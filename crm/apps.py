from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
    verbose_name = _("Подключение CRM")

    def ready(self) -> None:
        # The shop-event listener (writes outbox rows) and the outbox handler (calls the CRM).
        from . import services  # noqa: F401
