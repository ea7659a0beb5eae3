from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PhotoportalConfig(AppConfig):
    name = "photoportal"
    verbose_name = _("Фотопортал")
