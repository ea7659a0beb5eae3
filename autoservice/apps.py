from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutoserviceConfig(AppConfig):
    name = "autoservice"
    verbose_name = _("Автосервисы и сотрудники")
