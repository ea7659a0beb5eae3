from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutoserviceConfig(AppConfig):
    name = "autoservice"
    verbose_name = _("Автосервисы и сотрудники")

    def ready(self) -> None:
        from . import push  # noqa: F401 - registers the shop-event listener that publishes
        from .personal_data import provider_register
        from .personal_data_own import OwnProvider

        provider_register(OwnProvider())
