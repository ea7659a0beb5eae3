"""The platform's shot lists: body repair intake and a short service intake."""

from django.db import migrations

BODY = [
    # code, name, instruction, guide, required, min_count, is_damage
    (
        "front_left_45",
        "Перед слева под 45°",
        "Встаньте у переднего левого угла в 3–4 м, чтобы в кадр вошли перед и левый бок целиком",
        "corner_front_left",
        True,
        1,
        False,
    ),
    (
        "front_right_45",
        "Перед справа под 45°",
        "Передний правый угол, 3–4 м, перед и правый бок целиком",
        "corner_front_right",
        True,
        1,
        False,
    ),
    (
        "rear_left_45",
        "Зад слева под 45°",
        "Задний левый угол, 3–4 м, зад и левый бок целиком",
        "corner_rear_left",
        True,
        1,
        False,
    ),
    (
        "rear_right_45",
        "Зад справа под 45°",
        "Задний правый угол, 3–4 м, зад и правый бок целиком",
        "corner_rear_right",
        True,
        1,
        False,
    ),
    ("front", "Перед", "Ровно спереди, по центру, с госномером в кадре", "front", True, 1, False),
    ("rear", "Зад", "Ровно сзади, по центру, с госномером в кадре", "rear", True, 1, False),
    (
        "left_side",
        "Левый бок",
        "Ровно сбоку, вся машина от бампера до бампера",
        "side",
        True,
        1,
        False,
    ),
    (
        "right_side",
        "Правый бок",
        "Ровно сбоку, вся машина от бампера до бампера",
        "side",
        True,
        1,
        False,
    ),
    (
        "roof",
        "Крыша",
        "Сверху, если можно подняться (стремянка, эстакада)",
        "roof",
        False,
        1,
        False,
    ),
    (
        "vin_plate",
        "Табличка VIN",
        "Табличка или VIN под лобовым стеклом, все 17 знаков читаются",
        "vin",
        True,
        1,
        False,
    ),
    (
        "odometer",
        "Одометр",
        "Приборная панель при включённом зажигании: пробег и индикаторы видны",
        "dashboard",
        True,
        1,
        False,
    ),
    (
        "interior_front",
        "Салон спереди",
        "С заднего сиденья на передние кресла и панель",
        "interior",
        True,
        1,
        False,
    ),
    ("interior_rear", "Салон сзади", "Задний диван и пол", "interior", True, 1, False),
    ("boot", "Багажник", "Открытый багажник целиком", "boot", True, 1, False),
    ("wheel_front_left", "Колесо переднее левое", "Диск и шина целиком", "wheel", True, 1, False),
    ("wheel_front_right", "Колесо переднее правое", "Диск и шина целиком", "wheel", True, 1, False),
    ("wheel_rear_left", "Колесо заднее левое", "Диск и шина целиком", "wheel", True, 1, False),
    ("wheel_rear_right", "Колесо заднее правое", "Диск и шина целиком", "wheel", True, 1, False),
    (
        "damage",
        "Повреждения крупно",
        "Каждое имеющееся повреждение: издалека (чтобы видно деталь) и вблизи",
        "closeup",
        False,
        0,
        True,
    ),
]
SERVICE = [
    (
        "front_left_45",
        "Перед слева под 45°",
        "Передний левый угол, 3–4 м",
        "corner_front_left",
        True,
        1,
        False,
    ),
    (
        "rear_right_45",
        "Зад справа под 45°",
        "Задний правый угол, 3–4 м",
        "corner_rear_right",
        True,
        1,
        False,
    ),
    (
        "odometer",
        "Одометр",
        "Панель при включённом зажигании: пробег и индикаторы",
        "dashboard",
        True,
        1,
        False,
    ),
    ("vin_plate", "Табличка VIN", "VIN читается целиком", "vin", False, 1, False),
    ("damage", "Повреждения крупно", "Каждое заметное повреждение", "closeup", False, 0, True),
]


def create(apps, schema_editor):
    ShotTemplate = apps.get_model("intake", "ShotTemplate")
    ShotSpec = apps.get_model("intake", "ShotSpec")
    for family, name, specs in (
        ("body", "Приёмка на кузовной ремонт", BODY),
        ("service", "Короткая приёмка на сервис", SERVICE),
    ):
        template, created = ShotTemplate.objects.get_or_create(
            shop=None, family=family, version=1, defaults={"name": name}
        )
        if not created:
            continue
        for position, (
            code,
            spec_name,
            instruction,
            guide,
            required,
            min_count,
            damage,
        ) in enumerate(specs, start=1):
            ShotSpec.objects.create(
                template=template,
                position=position,
                code=code,
                name=spec_name,
                instruction=instruction,
                guide=guide,
                required=required,
                min_count=min_count,
                is_damage=damage,
            )


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
