from django.core.management.base import BaseCommand, CommandError

from smartcalc.loader import DataError, load_calc_data


class Command(BaseCommand):
    help = (
        "Загружает каталог автомобилей и данные ремонта из smartcalc/data (повторно — безопасно)."
    )

    def handle(self, *args, **options):
        try:
            version, created = load_calc_data()
        except DataError as exc:
            raise CommandError(str(exc)) from exc
        state = "загружена" if created else "уже загружена"
        self.stdout.write(self.style.SUCCESS(f"Данные калькулятора {version.label}: {state}."))
