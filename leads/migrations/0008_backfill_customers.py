"""Every existing lead gets its customer and car: leads of one shop with one normalised phone
are one customer; their cars are told apart by VIN/plate, else make and model.

Written for 100k leads: one read of the leads, bulk inserts, and the links set with a batched
bulk update; no query per lead. Reversing leaves the rows (the leads keep working without
them); a second run only fills what is still missing."""

import re

from django.core.exceptions import ValidationError
from django.db import connections, migrations

from autoservice.phones import normalize_phone
from autoservice.plates import normalize_plate

BATCH = 2000
_LATIN_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")


def _phone(raw):
    try:
        return normalize_phone(raw)
    except ValidationError:
        return None


def _plate(raw):
    if not raw:
        return ""
    try:
        return normalize_plate(raw)
    except ValidationError:
        return re.sub(r"[\s\-]", "", raw.upper()).translate(_LATIN_TO_CYRILLIC)[:12]


def _car_key(cars, make, model, year, plate):
    """The index of this lead's car among the customer's `cars` (made when new)."""
    for i, car in enumerate(cars):
        if plate and car["plate"] == plate:
            return i
    for i, car in enumerate(cars):
        if (
            make
            and model
            and car["make"].lower() == make.lower()
            and car["model"].lower() == model.lower()
            and (not year or not car["year"] or car["year"] == year)
            and (not plate or not car["plate"])
        ):
            if plate:
                car["plate"] = plate
            if year and not car["year"]:
                car["year"] = year
            return i
    if not (make or model or plate):
        return None
    cars.append({"make": make, "model": model, "year": year, "plate": plate})
    return len(cars) - 1


def backfill(apps, schema_editor):
    backfill_leads(apps, schema_editor.connection.alias)


def backfill_leads(apps, db, shop_ids=None):
    """`shop_ids`: only these shops (the benchmark); the migration does every shop."""
    Lead = apps.get_model("leads", "Lead")
    Customer = apps.get_model("customers", "Customer")
    CustomerPhone = apps.get_model("customers", "CustomerPhone")
    CustomerEvent = apps.get_model("customers", "CustomerEvent")
    Car = apps.get_model("customers", "Car")

    known = {
        (shop_id, phone): customer_id
        for shop_id, phone, customer_id in CustomerPhone.objects.using(db).values_list(
            "shop_id", "phone", "customer_id"
        )
    }
    people = {}  # (shop, phone) -> {"leads": [(lead_id, car index)], "cars": [...], ...}
    leads = Lead.objects.using(db)
    if shop_ids is not None:
        leads = leads.filter(shop_id__in=shop_ids)
    rows = (
        leads.filter(customer__isnull=True)
        .exclude(phone="")
        .order_by("created_at", "id")
        .values_list(
            "id",
            "shop_id",
            "phone",
            "customer_name",
            "email",
            "vehicle_make",
            "vehicle_model",
            "vehicle_year",
            "plate",
            "consent_id",
            "created_at",
            "assignee_id",
        )
    )
    for (
        lead_id,
        shop_id,
        raw,
        name,
        email,
        make,
        model,
        year,
        plate,
        consent,
        at,
        who,
    ) in rows.iterator(chunk_size=BATCH):
        phone = _phone(raw)
        if phone is None:
            continue
        person = people.setdefault(
            (shop_id, phone),
            {
                "leads": [],
                "cars": [],
                "name": "",
                "email": "",
                "consent": None,
                "first": at,
                "last": at,
                "manager": None,
            },
        )
        person["name"] = name or person["name"]
        person["email"] = email or person["email"]
        person["consent"] = consent or person["consent"]
        person["last"] = at
        person["manager"] = person["manager"] or who
        person["leads"].append(
            (lead_id, _car_key(person["cars"], make, model, year, _plate(plate)))
        )
    if not people:
        return

    new_keys = [key for key in people if key not in known]
    made = Customer.objects.using(db).bulk_create(
        [
            Customer(
                shop_id=key[0],
                name=people[key]["name"][:150],
                email=people[key]["email"],
                consent_id=people[key]["consent"],
                manager_id=people[key]["manager"],
                created_at=people[key]["first"],
                last_seen_at=people[key]["last"],
            )
            for key in new_keys
        ],
        batch_size=BATCH,
    )
    for key, customer in zip(new_keys, made, strict=True):
        known[key] = customer.pk
    CustomerPhone.objects.using(db).bulk_create(
        [
            CustomerPhone(
                shop_id=key[0],
                customer_id=known[key],
                phone=key[1],
                is_primary=True,
                created_at=people[key]["first"],
            )
            for key in new_keys
        ],
        batch_size=BATCH,
    )
    CustomerEvent.objects.using(db).bulk_create(
        [
            CustomerEvent(
                customer_id=known[key],
                kind="created",
                text="Клиент составлен по прежним заявкам: %s" % len(people[key]["leads"]),
                data={"backfill": True, "leads": len(people[key]["leads"])},
                created_at=people[key]["first"],
            )
            for key in new_keys
        ],
        batch_size=BATCH,
    )
    car_rows, car_owner = [], []
    for key, person in people.items():
        for car in person["cars"]:
            car_rows.append(
                Car(
                    shop_id=key[0],
                    customer_id=known[key],
                    make=car["make"][:60],
                    model=car["model"][:60],
                    year=car["year"],
                    plate=car["plate"],
                    created_at=person["first"],
                )
            )
            car_owner.append(key)
    cars = Car.objects.using(db).bulk_create(car_rows, batch_size=BATCH)
    car_ids = {}
    for key, car in zip(car_owner, cars, strict=True):
        car_ids.setdefault(key, []).append(car.pk)

    links = []
    for key, person in people.items():
        for lead_id, index in person["leads"]:
            car_id = car_ids[key][index] if index is not None else None
            links.append((lead_id, known[key], car_id))
    _link(Lead, db, links)


def _link(Lead, db, links):
    """lead.customer and lead.car for every (lead, customer, car). On PostgreSQL one UPDATE
    joined to a VALUES list per batch: Django's bulk_update writes a CASE with a branch per
    row, which PostgreSQL walks for every row (quadratic in the batch)."""
    connection = connections[db]
    if connection.vendor != "postgresql":
        Lead.objects.using(db).bulk_update(
            [Lead(pk=pk, customer_id=c, car_id=car) for pk, c, car in links],
            ["customer", "car"],
            batch_size=BATCH,
        )
        return
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(links), BATCH * 5):
            chunk = links[start : start + BATCH * 5]
            values = ",".join(["(%s::bigint, %s::bigint, %s::bigint)"] * len(chunk))
            cursor.execute(
                f"UPDATE {table} AS lead SET customer_id = v.customer, car_id = v.car "
                f"FROM (VALUES {values}) AS v(id, customer, car) WHERE lead.id = v.id",
                [value for row in chunk for value in row],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0007_alter_lead_channel"),
        ("customers", "0002_duplicateproposal"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
