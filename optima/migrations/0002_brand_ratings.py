"""Platform data for the recommendation: brand ratings and safety-relevant part words.

Ratings follow the quality tiers of shared/reference/repair-data.md §4 (an estimate from
market practice): carmaker originals 5, OE suppliers 4, European body aftermarket and
Taiwanese optics 3, budget Taiwan/China 2. Editable in the admin.
"""

from django.db import migrations

BRANDS = [
    # brand, rating, warranty months, certificate, material / make note
    ("HYUNDAI/KIA", 5, 12, True, "Оригинал Hyundai/Kia (Mobis): заводская геометрия и крепления"),
    ("TOYOTA", 5, 12, True, "Оригинал Toyota: заводская геометрия и крепления"),
    ("VAG", 5, 12, True, "Оригинал Volkswagen Group: заводская геометрия и крепления"),
    ("LADA", 5, 12, True, "Оригинал LADA"),
    ("RENAULT", 5, 12, True, "Оригинал Renault"),
    ("HAVAL/GWM", 5, 12, True, "Оригинал Haval"),
    ("CHERY", 5, 12, True, "Оригинал Chery"),
    ("GEELY", 5, 12, True, "Оригинал Geely"),
    ("BOSCH", 4, 12, True, "Поставщик конвейера"),
    ("VALEO", 4, 12, True, "Поставщик конвейера: оптика и стёкла заводского уровня"),
    ("HELLA", 4, 12, True, "Поставщик конвейера: оптика заводского уровня"),
    ("DENSO", 4, 12, True, "Поставщик конвейера"),
    ("MAGNETI MARELLI", 4, 12, True, "Поставщик конвейера"),
    ("KLOKKERHOLM", 3, 6, True, "Европейский кузовной aftermarket: сталь близкой толщины"),
    ("VAN WEZEL", 3, 6, True, "Европейский кузовной aftermarket"),
    ("PRASCO", 3, 6, False, "Европейский кузовной aftermarket"),
    ("POLCAR", 3, 6, False, "Европейский кузовной aftermarket"),
    ("BLIC", 3, 6, False, "Кузовной aftermarket"),
    ("DEPO", 3, 6, True, "Оптика Тайваня с сертификатом"),
    ("TYG", 3, 6, False, "Оптика Тайваня"),
    ("SAT", 2, 0, False, "Бюджетный аналог: претензии только до установки и окраски"),
    ("SIGNEDA", 2, 0, False, "Бюджетный аналог"),
    ("FPS", 2, 0, False, "Бюджетный аналог"),
]

SAFETY = [
    "фара",
    "фонарь",
    "стекло",
    "зеркало",
    "тормоз",
    "диск колеса",
    "подушка безопасности",
    "ремень безопасности",
    "рулев",
    "усилитель бампера",
    "подвеск",
]


def create(apps, schema_editor):
    BrandRating = apps.get_model("optima", "BrandRating")
    SafetyKeyword = apps.get_model("optima", "SafetyKeyword")
    for brand, rating, warranty, certified, note in BRANDS:
        BrandRating.objects.get_or_create(
            brand=brand,
            defaults={
                "rating": rating,
                "warranty_months": warranty,
                "certified": certified,
                "material_note": note,
            },
        )
    for keyword in SAFETY:
        SafetyKeyword.objects.get_or_create(keyword=keyword)


class Migration(migrations.Migration):
    dependencies = [("optima", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
