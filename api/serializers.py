"""What the API shows and accepts. Field names are the CRM's contract: never renamed."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from autoservice.phones import normalize_phone
from intake.selectors import record_as_json
from leads.models import Channel, PreferredContact, Status
from leads.selectors import lead_photo_link
from optima.models import OrderLineStatus, OrderStatus
from optima.selectors import order_status_history

API_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.MESSENGER)
API_CHANNEL_CHOICES = [(c.value, c.label) for c in API_CHANNELS]


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.URLField(help_text=_("постоянный адрес вида проблемы"))
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = serializers.DictField(required=False, help_text=_("ошибки по полям"))


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text=_("номер заявки в автосервисе"))
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    lost_reason = serializers.CharField()
    customer_name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    preferred_contact = serializers.ChoiceField(choices=PreferredContact.choices)
    vehicle_make = serializers.CharField()
    vehicle_model = serializers.CharField()
    vehicle_year = serializers.IntegerField(allow_null=True)
    plate = serializers.CharField()
    description = serializers.CharField()
    assignee = PersonSerializer(allow_null=True)
    customer_id = serializers.IntegerField(
        allow_null=True, help_text=_("клиент автосервиса: все заявки с одного телефона")
    )
    car_id = serializers.IntegerField(allow_null=True, help_text=_("автомобиль клиента"))
    photo_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()
    first_response_at = serializers.DateTimeField(allow_null=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    taken_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField()
    web_url = serializers.SerializerMethodField(help_text=_("ссылка на фото, действует час"))
    thumb_url = serializers.SerializerMethodField(help_text=_("миниатюра, ссылка на час"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_web_url(self, photo) -> str | None:
        return lead_photo_link(photo, "web") if photo.web else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumb_url(self, photo) -> str | None:
        return lead_photo_link(photo, "thumb") if photo.thumb else None


class ConsentSerializer(serializers.Serializer):
    text_title = serializers.CharField(source="text.title")
    text_version = serializers.IntegerField(source="text.version")
    subject_name = serializers.CharField()
    subject_phone = serializers.CharField()
    accepted_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    text = serializers.CharField()
    actor = serializers.CharField(source="actor.display_name", allow_null=True, default=None)
    api_token = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_api_token(self, event) -> str | None:
        return event.data.get("api_token_name") if event.data else None


class LeadDetailSerializer(LeadSerializer):
    photos = PhotoSerializer(many=True, source="photos.all")
    consent = ConsentSerializer(allow_null=True)
    timeline = EventSerializer(many=True, source="events.all")


class LeadCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=API_CHANNEL_CHOICES,
        help_text=_("откуда заявка: звонок, визит, мессенджер"),
    )
    customer_name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=40, help_text=_("российский номер: +7 912 345-67-89"))
    email = serializers.EmailField(max_length=254, required=False, default="")
    preferred_contact = serializers.ChoiceField(
        choices=PreferredContact.choices, required=False, default=PreferredContact.CALL
    )
    vehicle_make = serializers.CharField(max_length=60, required=False, default="")
    vehicle_model = serializers.CharField(max_length=60, required=False, default="")
    vehicle_year = serializers.IntegerField(
        min_value=1950, max_value=2100, required=False, allow_null=True, default=None
    )
    plate = serializers.CharField(max_length=12, required=False, default="")
    description = serializers.CharField(max_length=5000, required=False, default="")

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate_vehicle_year(self, value: int | None) -> int | None:
        if value is not None and value > timezone.now().year + 1:
            raise serializers.ValidationError(_("Год выпуска не может быть в будущем."))
        return value


class LeadStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("причина отказа: обязательна для статуса lost"),
    )


class LeadAssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        allow_null=True,
        help_text=_("id сотрудника (из assignee других заявок) или null — снять"),
    )


class EstimateVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    note = serializers.CharField()
    author = serializers.CharField(source="author.display_name", allow_null=True, default=None)
    data_version = serializers.CharField(help_text=_("версия нормативов, по которой считали"))
    total_rub = serializers.DecimalField(max_digits=12, decimal_places=2)
    inputs = serializers.JSONField(help_text=_("что выбрал клиент: повреждения и размеры"))
    result = serializers.JSONField(help_text=_("строки и итоги, как их видел клиент"))
    created_at = serializers.DateTimeField()
    export_url = serializers.SerializerMethodField(
        help_text=_("выгрузка версии для программ расчёта и страховых (JSON, ?format=xlsx — XLSX)")
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_export_url(self, version) -> str:
        path = reverse("api:estimate_export", args=[version.estimate_id, version.number])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class EstimateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id", allow_null=True)
    make = serializers.CharField(source="generation.model.make.name")
    model = serializers.CharField(source="generation.model.name")
    generation = serializers.CharField(source="generation.name")
    body_type = serializers.CharField()
    created_at = serializers.DateTimeField()
    versions = EstimateVersionSerializer(many=True, source="versions.all")


class OfferVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status = serializers.CharField()
    labour = serializers.JSONField(help_text=_("работы"))
    positions = serializers.JSONField(help_text=_("позиции с вариантами запчастей"))
    valid_until = serializers.DateField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    accepted_choice = serializers.JSONField(help_text=_("выбранные клиентом варианты"))
    accepted_total_rub = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    created_at = serializers.DateTimeField()


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    lead_number = serializers.IntegerField(source="lead.number")
    created_at = serializers.DateTimeField()
    versions = OfferVersionSerializer(many=True, source="versions.all")


class IntakeRecordSerializer(serializers.Serializer):
    """An intake record exactly as intake/API.md documents it."""

    def to_representation(self, record) -> dict:
        return record_as_json(record)


# --- the estimate export (smartcalc/EXPORT.md): documents the shape, never renames it -----


class ExportShopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True)


class ExportEstimateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    lead_number = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    author = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class ExportVehicleSerializer(serializers.Serializer):
    make = serializers.CharField()
    model = serializers.CharField()
    generation = serializers.CharField()
    years = serializers.CharField()
    body_type = serializers.CharField()
    body_type_name = serializers.CharField()
    paint_type = serializers.CharField(allow_blank=True)
    paint_type_name = serializers.CharField(allow_blank=True)


class ExportRatesSerializer(serializers.Serializer):
    body_rate_rub = serializers.CharField(allow_null=True)
    paint_rate_rub = serializers.CharField(allow_null=True)
    material_unit_rub = serializers.CharField(allow_null=True)


class ExportTaxSerializer(serializers.Serializer):
    regime = serializers.CharField(allow_blank=True, help_text=_("osn_22, usn_5, usn_7, usn_none"))
    regime_name = serializers.CharField()
    vat_percent = serializers.CharField(allow_null=True)
    vat_rounding = serializers.CharField(allow_blank=True, help_text=_("line или total"))
    vat_rounding_name = serializers.CharField(allow_blank=True)
    rates_include_vat = serializers.BooleanField(allow_null=True)
    price_list_includes_vat = serializers.BooleanField(allow_null=True)


EXPORT_KINDS = [
    "replace",
    "repair",
    "polish",
    "remove_refit",
    "adjust",
    "paint",
    "spot_repair",
    "blend",
    "materials",
    "part",
    "other",
]


class ExportOperationSerializer(serializers.Serializer):
    line = serializers.CharField(help_text=_("«позиция.операция», например 2.3"))
    kind = serializers.ChoiceField(choices=EXPORT_KINDS)
    kind_name = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.ChoiceField(choices=["hours", "units", "pcs"])
    quantity = serializers.CharField(allow_null=True)
    labour_hours = serializers.CharField(allow_null=True)
    paint_units = serializers.CharField(allow_null=True)
    rate_rub = serializers.CharField(allow_null=True)
    unit_price_rub = serializers.CharField(allow_null=True)
    oem_number = serializers.CharField(allow_blank=True)
    price_approximate = serializers.BooleanField()
    price_includes_vat = serializers.BooleanField(allow_null=True)
    amount_rub = serializers.CharField()
    amount_without_vat_rub = serializers.CharField()
    vat_rub = serializers.CharField()
    amount_with_vat_rub = serializers.CharField()


class ExportPositionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    part_code = serializers.CharField()
    part_name = serializers.CharField()
    oem_number = serializers.CharField(allow_blank=True)
    operation = serializers.CharField()
    operation_name = serializers.CharField()
    damage_kind = serializers.CharField(allow_blank=True)
    damage_size = serializers.CharField(allow_blank=True)
    repair_category = serializers.CharField(allow_blank=True)
    quantity = serializers.CharField()
    labour_hours = serializers.CharField()
    paint_hours = serializers.CharField()
    paint_units = serializers.CharField()
    part_price_rub = serializers.CharField()
    price_approximate = serializers.BooleanField()
    amount_rub = serializers.CharField()
    amount_without_vat_rub = serializers.CharField()
    vat_included_rub = serializers.CharField()
    vat_on_top_rub = serializers.CharField()
    vat_rub = serializers.CharField()
    amount_with_vat_rub = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())
    operations = ExportOperationSerializer(many=True)


class ExportTotalsSerializer(serializers.Serializer):
    labour_rub = serializers.CharField()
    paint_rub = serializers.CharField()
    materials_rub = serializers.CharField()
    parts_rub = serializers.CharField()
    amount_rub = serializers.CharField()
    vat_on_top_rub = serializers.CharField()
    vat_rub = serializers.CharField()
    amount_without_vat_rub = serializers.CharField()
    amount_with_vat_rub = serializers.CharField()
    positions_vat_rub = serializers.CharField()
    vat_rounding_difference_rub = serializers.CharField()
    alternative_amount_with_vat_rub = serializers.CharField(allow_null=True)
    hidden_damage_low_rub = serializers.CharField(allow_null=True)
    hidden_damage_high_rub = serializers.CharField(allow_null=True)


class EstimateExportSerializer(serializers.Serializer):
    """A version in the export's line structure (smartcalc/EXPORT.md)."""

    format = serializers.ChoiceField(choices=["sto-estimate-export"])
    format_version = serializers.IntegerField()
    currency = serializers.ChoiceField(choices=["RUB"])
    shop = ExportShopSerializer()
    estimate = ExportEstimateSerializer()
    data_version = serializers.CharField(help_text=_("версия нормативов, по которой считали"))
    vehicle = ExportVehicleSerializer()
    rates = ExportRatesSerializer()
    tax = ExportTaxSerializer()
    positions = ExportPositionSerializer(many=True)
    totals = ExportTotalsSerializer()


# --- supplier orders ----------------------------------------------------------------------


class OrderLineSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text=_("номер позиции предложения"))
    brand = serializers.CharField()
    number = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    qty = serializers.IntegerField()
    price_agreed_rub = serializers.DecimalField(max_digits=12, decimal_places=2)
    price_confirmed_rub = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    status = serializers.ChoiceField(choices=OrderLineStatus.choices)
    reject_reason = serializers.CharField(allow_blank=True)


class OrderStatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    at = serializers.DateTimeField()


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_number = serializers.CharField(help_text=_("наш номер заказа у поставщика"))
    supplier_number = serializers.CharField(allow_blank=True)
    supplier = serializers.CharField(source="supplier.name")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    test_mode = serializers.BooleanField()
    lead = serializers.IntegerField(source="version.offer.lead_id")
    lead_number = serializers.IntegerField(source="version.offer.lead.number")
    offer = serializers.IntegerField(source="version.offer_id")
    offer_version = serializers.IntegerField(source="version.number")
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(
        source="changed_at", help_text=_("последнее изменение или опрос поставщика")
    )
    total_agreed_rub = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True, source="lines.all")
    status_history = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_total_agreed_rub(self, order) -> str:
        total = sum((line.price_agreed_rub * line.qty for line in order.lines.all()), Decimal(0))
        return f"{total:.2f}"

    @extend_schema_field(OrderStatusChangeSerializer(many=True))
    def get_status_history(self, order) -> list[dict]:
        return OrderStatusChangeSerializer(
            [{"status": s, "at": at} for s, at in order_status_history(order)], many=True
        ).data
