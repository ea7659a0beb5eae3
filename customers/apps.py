from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "customers"
    verbose_name = _("Клиенты")

    def ready(self) -> None:
        from autoservice.personal_data import provider_register

        from .personal_data import CustomersProvider

        provider_register(CustomersProvider())
