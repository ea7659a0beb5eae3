import factory
from django.contrib.auth import get_user_model

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
