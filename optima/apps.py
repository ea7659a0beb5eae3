from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OptimaConfig(AppConfig):
    name = "optima"
    verbose_name = _("Подбор запчастей")
