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
    # Every demo request has its customer; the regular has two cars, three requests over
    # 60 days and a personal manager, who got the latest request straight away.
    from customers.models import Customer
    from leads.models import Lead

    leads = Lead.objects.filter(shop=shop)
    assert leads.exists() and not leads.filter(customer__isnull=True).exists()
    regular = Customer.objects.get(shop=shop, phones__phone="+79857770011")
    assert regular.cars.count() == 2 and regular.manager is not None
    history = list(regular.leads.order_by("created_at"))
    assert len(history) == 3
    assert (history[-1].created_at - history[0].created_at).days >= 58
    assert history[-1].assignee == regular.manager
