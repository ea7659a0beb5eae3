from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SmartcalcConfig(AppConfig):
    name = "smartcalc"
    verbose_name = _("Калькулятор ремонта")
