from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _

from autoservice.outbound import outbound_url_validator

from .models import (
    BrandRating,
    CrossReference,
    CustomerOffer,
    MarkupRule,
    OfferVersion,
    PricingSettings,
    SafetyKeyword,
    Search,
    Supplier,
    SupplierDiscount,
    SupplierRequestCount,
)


class SupplierDiscountInline(admin.TabularInline):
    model = SupplierDiscount
    extra = 0


class SupplierAdminForm(forms.ModelForm):
    """The addresses an admin types pass the same outbound policy as a manager's."""

    class Meta:
        model = Supplier
        fields = [
            "shop",
            "name",
            "kind",
            "base_url",
            "login",
            "options",
            "discount_pct",
            "cutoff_time",
            "transit_days",
            "timeout_s",
            "is_active",
            "pricelist_url",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("base_url", "pricelist_url"):
            self.fields[name].validators.append(outbound_url_validator)


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    form = SupplierAdminForm
    list_display = ["name", "shop", "kind", "discount_pct", "is_active"]
    list_filter = ["kind", "is_active", "shop"]
    list_select_related = ["shop"]
    search_fields = ["name", "login"]
    exclude = ["secret"]  # never shown back; managers change it on the supplier page
    readonly_fields = ["secret_masked", "pricelist_loaded_at"]
    inlines = [SupplierDiscountInline]

    def save_model(self, request, obj, form, change) -> None:
        # The admin never sees the secret, so it cannot re-enter it: a secret entered for
        # another address or login is dropped rather than sent there.
        if change:
            stored = Supplier.objects.get(pk=obj.pk)
            if stored.secret_reentry_reason(base_url=obj.base_url, login=obj.login):
                obj.secret = ""
                messages.warning(
                    request,
                    _(
                        "Адрес API или логин изменились: сохранённый пароль удалён. "
                        "Руководитель сервиса вводит его заново на странице поставщика."
                    ),
                )
        super().save_model(request, obj, form, change)


@admin.register(SupplierRequestCount)
class SupplierRequestCountAdmin(admin.ModelAdmin):
    """A supplier account's requests per Moscow day; editable so that support can free a
    contract the supplier has unblocked early."""

    list_display = ["supplier", "day", "requests"]
    list_filter = ["day"]
    list_select_related = ["supplier", "supplier__shop"]
    search_fields = ["supplier__name", "supplier__shop__name"]
    date_hierarchy = "day"


@admin.register(BrandRating)
class BrandRatingAdmin(admin.ModelAdmin):
    list_display = ["brand", "rating", "warranty_months", "certified", "material_note"]
    search_fields = ["brand"]


@admin.register(SafetyKeyword)
class SafetyKeywordAdmin(admin.ModelAdmin):
    list_display = ["keyword"]


@admin.register(CrossReference)
class CrossReferenceAdmin(admin.ModelAdmin):
    list_display = ["number_key", "analogue_brand", "analogue_key", "shop"]
    search_fields = ["number_key", "analogue_key"]
    list_select_related = ["shop"]


@admin.register(PricingSettings)
class PricingSettingsAdmin(admin.ModelAdmin):
    list_display = ["shop", "round_to_rub", "recommend_threshold_pct", "search_deadline_s"]
    list_select_related = ["shop"]


@admin.register(MarkupRule)
class MarkupRuleAdmin(admin.ModelAdmin):
    list_display = ["shop", "quality", "price_from_rub", "markup_pct"]
    list_filter = ["shop"]
    list_select_related = ["shop"]


@admin.register(Search)
class SearchAdmin(admin.ModelAdmin):
    list_display = ["__str__", "shop", "created_at", "finished_at"]
    list_select_related = ["shop"]
    readonly_fields = ["numbers", "created_at", "deadline_at", "finished_at"]


class OfferVersionInline(admin.TabularInline):
    model = OfferVersion
    extra = 0
    can_delete = False
    fields = ["number", "status", "valid_until", "sent_at", "accepted_at", "accepted_total_rub"]
    readonly_fields = fields


@admin.register(CustomerOffer)
class CustomerOfferAdmin(admin.ModelAdmin):
    list_display = ["__str__", "shop", "created_at"]
    list_select_related = ["shop", "lead"]
    readonly_fields = ["token", "created_at"]
    inlines = [OfferVersionInline]


from . import ordering_admin  # noqa: E402, F401  (supplier orders)
