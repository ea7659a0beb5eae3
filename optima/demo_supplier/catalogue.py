"""One demo supplier's catalogue, generated from a seed: the same seed gives the same parts,
prices, stock and delivery."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .parts import (
    ANALOGUE_BRANDS,
    CATEGORY_BRANDS,
    DEMO_CAR_PARTS,
    DEMO_PARTS,
    MAKES,
    ON_ORDER,
    TIER_PRICE,
    TIER_WARRANTY,
    WAREHOUSES,
    Warehouse,
)


def _fill(pattern: str, rng: random.Random, model: str) -> str:
    def token(match: re.Match) -> str:
        text = match.group(1)
        if text == "m":
            return model
        if text.startswith("c:"):
            return rng.choice(text[2:].split("|"))
        digits = int(text[1:])
        return str(rng.randint(10 ** (digits - 1), 10**digits - 1))

    return re.sub(r"\{([^}]+)\}", token, pattern)


@dataclass(frozen=True)
class DemoPart:
    id: int
    brand_abcp: str
    brand_armtek: str
    brand_keys: frozenset[str]
    number: str
    key: str
    name: str
    tier: str  # "original" or a key of TIER_PRICE
    group: str


@dataclass(frozen=True)
class DemoOffer:
    part: DemoPart
    warehouse: Warehouse
    price: Decimal
    stock: int  # ≥1 exact; −1/−2/−3 levels; −10 on order
    packing: int
    hours_min: int
    hours_max: int | None  # None: the supplier gives no maximum
    probability: int
    returnable: bool
    warranty_months: int
    item_key: str
    code: str
    artid: int


def demo_key(text: str) -> str:
    """The demo's own number key (kept apart from the adapters' code on purpose)."""
    return re.sub(r"[^A-Z0-9]", "", str(text).upper())


def _brand_key(text: str) -> str:
    return re.sub(r"[^0-9A-ZА-ЯЁ]", "", str(text).upper())


class DemoCatalogue:
    """Parts and offers of one demo supplier, all drawn from `seed`."""

    def __init__(self, seed: int):
        self.seed = seed
        rng = random.Random(f"optima-demo-catalogue-{seed}")
        self.warehouses = (
            WAREHOUSES[0],
            *sorted(rng.sample(WAREHOUSES[1:5], 2), key=WAREHOUSES.index),
            WAREHOUSES[5],
        )
        self.parts: list[DemoPart] = []
        self.offers_by_part: dict[int, list[DemoOffer]] = {}
        self.oem_numbers: list[str] = [entry[2] for entry in DEMO_PARTS]
        # Every original number stocked, with the platform catalogue's real numbers of the
        # demo leads' cars; those are drawn from a random stream of their own, so the first
        # table keeps its parts, prices and stock.
        self.stocked_numbers: list[str] = self.oem_numbers + [e[2] for e in DEMO_CAR_PARTS]
        spelling = {make: rng.choice(spellings) for make, (spellings, _, _) in MAKES.items()}
        taken: set[tuple[str, str]] = set()
        self._add_table(rng, DEMO_PARTS, spelling, taken)
        cars_rng = random.Random(f"optima-demo-catalogue-{seed}-cars")
        self._add_table(cars_rng, DEMO_CAR_PARTS, spelling, taken)
        self.parts_by_key: dict[str, list[DemoPart]] = {}
        self.parts_by_group: dict[str, list[DemoPart]] = {}
        for part in self.parts:
            self.parts_by_key.setdefault(part.key, []).append(part)
            self.parts_by_group.setdefault(part.group, []).append(part)

    def _add_table(self, rng: random.Random, table, spelling, taken) -> None:
        """Originals of `table` with their offers, then analogues for each cross group."""
        groups: dict[str, tuple[str, str, int]] = {}  # group → (category, model code, price)
        for make, model, number, category, low, high, cross, name in table:
            price = Decimal(rng.randint(low, high)).quantize(Decimal(1))
            if category != "clip":
                price = (price / 10).to_integral_value() * 10  # originals: whole tens of roubles
            _, armtek_brand, synonyms = MAKES[make]
            keys = {_brand_key(s) for s in (*MAKES[make][0], armtek_brand, *synonyms)}
            group = cross or number
            part = self._add_part(
                spelling[make], armtek_brand, frozenset(keys), number, name, "original", group
            )
            taken.add((part.brand_armtek, part.key))
            self._add_offers(rng, part, price, category)
            groups.setdefault(group, (category, model, int(price)))
        for group, (category, model, original_price) in groups.items():
            base_name = next(p.name for p in self.parts if p.group == group)
            pool = CATEGORY_BRANDS[category]
            for brand in rng.sample(pool, rng.randint(1, min(5, len(pool)))):
                tier, abcp_brand, armtek_brand, pattern = ANALOGUE_BRANDS[brand]
                number = _fill(pattern, rng, model)
                while (armtek_brand, demo_key(number)) in taken:
                    number = _fill(pattern, rng, model)
                taken.add((armtek_brand, demo_key(number)))
                keys = frozenset({_brand_key(abcp_brand), _brand_key(armtek_brand)})
                part = self._add_part(
                    abcp_brand, armtek_brand, keys, number, base_name, tier, group
                )
                share = Decimal(str(round(rng.uniform(*TIER_PRICE[tier]), 3)))
                self._add_offers(rng, part, Decimal(original_price) * share, category)

    def _add_part(self, brand_abcp, brand_armtek, keys, number, name, tier, group) -> DemoPart:
        part = DemoPart(
            id=len(self.parts) + 1,
            brand_abcp=brand_abcp,
            brand_armtek=brand_armtek,
            brand_keys=keys,
            number=number,
            key=demo_key(number),
            name=name,
            tier=tier,
            group=group,
        )
        self.parts.append(part)
        return part

    def _add_offers(self, rng: random.Random, part: DemoPart, price: Decimal, category: str):
        count = rng.randint(1, 3)
        chosen = sorted(rng.sample(self.warehouses, count), key=self.warehouses.index)
        packing = rng.choice((5, 10)) if category == "clip" else 1
        offers = []
        for warehouse in chosen:
            if warehouse.kind == "own":
                stock = rng.randint(1, 8) if rng.random() < 0.7 else rng.choice((-1, -2))
                hours_min, hours_max, markup, probability = 0, 0, 0.0, 99
            elif warehouse.kind == "order":
                stock = ON_ORDER
                hours_min = rng.randint(warehouse.hours_from, warehouse.hours_from + 72)
                hours_max = warehouse.hours_to
                markup, probability = rng.uniform(-0.08, -0.03), rng.randint(60, 85)
            else:
                stock = rng.randint(1, 20) if rng.random() < 0.4 else rng.choice((-1, -2, -3))
                hours_min = rng.randint(
                    warehouse.hours_from, (warehouse.hours_from + warehouse.hours_to) // 2
                )
                hours_max = warehouse.hours_to if rng.random() < 0.8 else None
                markup, probability = rng.uniform(0.02, 0.06), rng.randint(88, 98)
            amount = (price * Decimal(str(round(1 + markup, 4)))).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            artid = 100000 + sum(len(o) for o in self.offers_by_part.values()) + len(offers)
            offers.append(
                DemoOffer(
                    part=part,
                    warehouse=warehouse,
                    price=max(amount, Decimal("1.00")),
                    stock=stock,
                    packing=packing,
                    hours_min=hours_min,
                    hours_max=hours_max,
                    probability=probability,
                    returnable=stock != ON_ORDER
                    and not (part.tier == "budget" and rng.random() < 0.3),
                    warranty_months=rng.choice(TIER_WARRANTY[part.tier]),
                    item_key=f"{rng.getrandbits(128):032x}",
                    code=f"DS{artid:07d}",
                    artid=artid,
                )
            )
        self.offers_by_part[part.id] = offers

    # --- lookups ----------------------------------------------------------------------

    def brands(self, number: str) -> list[DemoPart]:
        return list(self.parts_by_key.get(demo_key(number), ()))

    def find(self, number: str, brand: str) -> DemoPart | None:
        wanted = _brand_key(brand)
        return next((p for p in self.brands(number) if wanted in p.brand_keys), None)

    def offers(self, part: DemoPart, *, with_analogues: bool) -> list[DemoOffer]:
        parts = [part]
        if with_analogues:
            parts += [p for p in self.parts_by_group[part.group] if p is not part]
        return [offer for p in parts for offer in self.offers_by_part[p.id]]

    @property
    def all_offers(self) -> list[DemoOffer]:
        return [offer for offers in self.offers_by_part.values() for offer in offers]
