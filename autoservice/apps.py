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

        # The drivers' pages show the shop and its consent text (autoservice/pagecache.py).
        from .models import ConsentText, Shop
        from .pagecache import bump_on_change

        bump_on_change(Shop, shop_of=lambda shop: shop.pk)
        bump_on_change(ConsentText)
