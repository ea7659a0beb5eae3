from django.contrib.auth import get_user_model
from django.core.management import call_command

from autoservice.models import Membership, Shop


def test_demo_creates_a_believable_shop_idempotently(db):
    call_command("demo", password="demo-pass-123")
    call_command("demo", password="demo-pass-123")
    shop = Shop.objects.get(slug="demo")
    roles = sorted(Membership.objects.filter(shop=shop).values_list("role", flat=True))
    assert roles == ["advisor", "advisor", "manager"]
    assert Shop.objects.filter(slug="demo").count() == 1
    manager = get_user_model().objects.get(username="manager@demo.local")
    assert manager.check_password("demo-pass-123")
