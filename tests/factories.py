import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from autoservice.models import Membership, Role, Shop


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Автосервис №{n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    region = "Москва"
    address = "Москва, ул. Ленина, 1"
    phone = "+74950000000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}@example.ru")
    email = factory.SelfAttribute("username")
    first_name = "Иван"
    last_name = factory.Sequence(lambda n: f"Петров-{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-42")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    shop = factory.SubFactory(ShopFactory)
    role = Role.ADVISOR


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Lead"

    shop = factory.SubFactory(ShopFactory)
    number = factory.Sequence(lambda n: n + 1)
    channel = "photo"
    customer_name = factory.Sequence(lambda n: f"Водитель {n}")
    phone = factory.Sequence(lambda n: f"+7912{n:07d}")
    vehicle_make = "Kia"
    vehicle_model = "Rio"


def _write_jpeg(name, size=(640, 480), color=(180, 40, 40)):
    """A real JPEG stored under ``name`` through the storage API (a folder or a bucket)."""
    import io

    from django.core.files.storage import default_storage
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    buffer.seek(0)
    saved = default_storage.save(name, buffer)
    assert saved == name, (saved, name)


class LeadPhotoFactory(factory.django.DjangoModelFactory):
    """A photo whose original and renditions are real JPEG files in the storage."""

    class Meta:
        model = "leads.LeadPhoto"
        skip_postgeneration_save = True

    lead = factory.SubFactory(LeadFactory)
    shop = factory.SelfAttribute("lead.shop")
    upload_token = factory.Sequence(lambda n: f"token-{n}")
    original = factory.Sequence(lambda n: f"leads/test/{n}.orig")
    web = factory.LazyAttribute(lambda o: o.original.replace(".orig", ".web.jpg"))
    thumb = factory.LazyAttribute(lambda o: o.original.replace(".orig", ".thumb.jpg"))
    original_name = "IMG_0001.jpg"
    sha256 = "0" * 64
    size_bytes = 1000
    format = "JPEG"
    width = 640
    height = 480
    state = "ready"

    @factory.post_generation
    def files(obj, create, extracted, **kwargs):
        _write_jpeg(obj.original.name)
        _write_jpeg(obj.web.name, size=(400, 300))
        _write_jpeg(obj.thumb.name, size=(120, 90))


class EstimateFactory(factory.django.DjangoModelFactory):
    """An estimate made by the real engine on the shipped data (loaded once per test run)."""

    class Meta:
        model = "smartcalc.Estimate"

    shop = factory.SubFactory(ShopFactory)

    @classmethod
    def _create(cls, model_class, shop, damages=None, **kwargs):
        from smartcalc import engine, services
        from smartcalc.models import Generation

        generation = Generation.objects.select_related("model").get(
            model__make__name="Hyundai", model__name="Solaris", popular=True
        )
        damages = damages or [
            engine.Damage("door_front_left", "dent", "2"),
            engine.Damage("bumper_front", "crack", "1"),
        ]
        result = services.estimate_compute(
            shop=shop, generation=generation, body_type="sedan", damages=damages
        )
        return services.estimate_save(
            shop=shop, generation=generation, body_type="sedan", damages=damages, result=result
        )


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "optima.Supplier"

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Поставщик {n}")
    kind = "abcp"
    base_url = "http://127.0.0.1:9"
    login = "api@id1"
    secret = "s3cret-password"


class OptimaSearchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "optima.Search"

    shop = factory.SubFactory(ShopFactory)
    numbers = ["865114L000"]
    deadline_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class CustomerOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "optima.CustomerOffer"

    shop = factory.SubFactory(ShopFactory)
    lead = factory.SubFactory(LeadFactory, shop=factory.SelfAttribute("..shop"))


class OfferVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "optima.OfferVersion"

    offer = factory.SubFactory(CustomerOfferFactory)
    number = 1
    labour = [{"name": "Ремонт и окраска двери", "price_rub": "12000.00"}]
    positions = [
        {
            "number": "865114L000",
            "name": "Бампер передний",
            "reasons": ["Дороже самого дешёвого варианта всего на 20 %."],
            "options": [
                {
                    "label": "оригинал",
                    "brand": "HYUNDAI/KIA",
                    "number": "86511-4L000",
                    "name": "Бампер",
                    "quality": "original",
                    "supplier_id": 0,
                    "supplier_name": "П",
                    "list_price_rub": "20000.00",
                    "purchase_rub": "18000.00",
                    "customer_rub": "24000.00",
                    "delivery_date": "2026-12-01",
                    "warranty_months": 12,
                    "order_ref": {},
                    "number_key": "865114L000",
                },
                {
                    "label": "самый выгодный",
                    "brand": "SAT",
                    "number": "ST-HN01-000",
                    "name": "Бампер",
                    "quality": "aftermarket",
                    "supplier_id": 0,
                    "supplier_name": "П",
                    "list_price_rub": "6000.00",
                    "purchase_rub": "5400.00",
                    "customer_rub": "7500.00",
                    "delivery_date": "2026-11-28",
                    "warranty_months": None,
                    "order_ref": {},
                    "number_key": "STHN01000",
                },
            ],
        }
    ]


class SupplierOrderFactory(factory.django.DjangoModelFactory):
    """A placed order for the accepted offer's first option, with its one line."""

    class Meta:
        model = "optima.SupplierOrder"
        skip_postgeneration_save = True

    shop = factory.SubFactory(ShopFactory)
    supplier = factory.SubFactory(SupplierFactory, shop=factory.SelfAttribute("..shop"))
    version = factory.SubFactory(
        OfferVersionFactory,
        offer__shop=factory.SelfAttribute("...shop"),
        status="accepted",
        accepted_choice={"0": 0},
    )
    client_number = factory.Sequence(lambda n: f"AS-{n:06d}")
    supplier_number = factory.Sequence(lambda n: f"{700000 + n}")
    status = "placed"
    placing_at = factory.LazyFunction(timezone.now)
    placed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def lines(order, create, extracted, **kwargs):
        if create and extracted is not False:
            order.lines.create(
                position=0,
                brand="HYUNDAI/KIA",
                number="86511-4L000",
                number_key="865114L000",
                name="Бампер",
                price_agreed_rub="18000.00",
                status="ordered",
            )


class IntakeRecordFactory(factory.django.DjangoModelFactory):
    """An unsealed intake record on the platform's body-repair shot list."""

    class Meta:
        model = "intake.IntakeRecord"

    shop = factory.SubFactory(ShopFactory)
    number = factory.Sequence(lambda n: n + 1)
    template = factory.LazyFunction(
        lambda: __import__("intake.models", fromlist=["ShotTemplate"]).ShotTemplate.objects.get(
            shop__isnull=True, family="body", is_current=True
        )
    )
    plate = "А123ВС77"
    vin = "XTAGFK330LY123456"
    make = "Lada"
    model = "Vesta"
    customer_name = "Ирина"
    customer_phone = "+79160000000"


def driver_requests_sent(
    shop,
    count: int,
    *,
    ip: str = "203.0.113.7",
    phone: str | None = None,
    channel: str = "photo",
    minutes_ago: int = 20,
):
    """`count` requests drivers sent to the shop through its forms `minutes_ago` minutes
    ago (each a form of its own; a phone of its own unless `phone` is given)."""
    import datetime as dt
    import uuid

    from django.utils import timezone

    from autoservice.consent import consent_text_current
    from leads.services import LeadInput, driver_request_submit

    sent_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return [
        driver_request_submit(
            shop=shop,
            channel=channel,
            contact=LeadInput(customer_name="Водитель", phone=phone or f"+7900{n:07d}"),
            consent_text=consent_text_current(shop),
            submission_key=uuid.uuid4(),
            upload_token=uuid.uuid4().hex,
            ip=ip,
            user_agent="Mozilla/5.0",
            now=sent_at,
        ).lead
        for n in range(count)
    ]
