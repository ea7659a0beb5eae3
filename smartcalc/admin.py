from django.contrib import admin
from django.db.models import F

from .models import (
    ClassFactor,
    DataVersion,
    Dependency,
    Estimate,
    EstimateVersion,
    EuroprotocolLimit,
    Generation,
    HiddenDamageRange,
    LabourNorm,
    ReferencePrice,
    ShopPartPrice,
    ShopRates,
    VehicleMake,
    VehicleModel,
    Wmi,
)


class GenerationInline(admin.TabularInline):
    model = Generation
    extra = 0


@admin.register(VehicleMake)
class VehicleMakeAdmin(admin.ModelAdmin):
    list_display = ["name", "popular"]
    search_fields = ["name"]


@admin.register(VehicleModel)
class VehicleModelAdmin(admin.ModelAdmin):
    list_display = ["__str__", "vehicle_class", "popularity_rank", "popular"]
    list_filter = ["vehicle_class", "make"]
    ordering = [F("popularity_rank").asc(nulls_last=True), "make__name", "name"]
    list_select_related = ["make"]
    search_fields = ["name", "make__name"]
    inlines = [GenerationInline]


@admin.register(DataVersion)
class DataVersionAdmin(admin.ModelAdmin):
    list_display = ["label", "is_current", "loaded_at"]
    readonly_fields = ["label", "sha256", "loaded_at"]


class VersionedAdmin(admin.ModelAdmin):
    list_filter = ["version"]
    list_select_related = ["version"]


@admin.register(LabourNorm)
class LabourNormAdmin(VersionedAdmin):
    list_display = ["part", "vehicle_model", "replace_h", "repair_r1_h", "paint_new_h", "version"]
    list_filter = ["version", "part"]
    list_select_related = ["version", "vehicle_model__make"]
    search_fields = ["part", "source"]


@admin.register(ClassFactor)
class ClassFactorAdmin(VersionedAdmin):
    list_display = ["vehicle_class", "body_factor", "paint_factor", "version"]


@admin.register(Dependency)
class DependencyAdmin(VersionedAdmin):
    list_display = ["part", "operation", "item", "hours", "version"]
    search_fields = ["item"]


@admin.register(HiddenDamageRange)
class HiddenDamageRangeAdmin(VersionedAdmin):
    list_display = ["part", "severity", "low_pct", "high_pct", "version"]


@admin.register(ReferencePrice)
class ReferencePriceAdmin(VersionedAdmin):
    list_display = [
        "vehicle_model",
        "generation",
        "part",
        "oem_number",
        "original_rub",
        "alternative_rub",
        "version",
    ]
    list_filter = ["version", "vehicle_model__make"]
    list_select_related = ["version", "vehicle_model__make", "generation__model__make"]
    search_fields = ["vehicle_model__name", "part", "oem_number"]


@admin.register(EuroprotocolLimit)
class EuroprotocolLimitAdmin(admin.ModelAdmin):
    list_display = ["title", "region", "condition", "amount_rub", "valid_from", "valid_to"]
    list_filter = ["condition", "region"]


@admin.register(Wmi)
class WmiAdmin(admin.ModelAdmin):
    list_display = ["code", "make", "models_text", "confirmed"]
    list_select_related = ["make"]


@admin.register(ShopRates)
class ShopRatesAdmin(admin.ModelAdmin):
    list_display = ["shop", "body_rate_rub", "paint_rate_rub", "material_unit_rub", "tax_regime"]
    list_select_related = ["shop"]


@admin.register(ShopPartPrice)
class ShopPartPriceAdmin(admin.ModelAdmin):
    list_display = ["shop", "vehicle_model", "part", "original_rub", "alternative_rub"]
    list_filter = ["shop"]
    list_select_related = ["shop", "vehicle_model__make"]


class EstimateVersionInline(admin.TabularInline):
    model = EstimateVersion
    extra = 0
    can_delete = False
    readonly_fields = ["number", "author", "note", "total_rub", "data_version", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Estimate)
class EstimateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "shop", "lead", "created_at"]
    list_filter = ["shop"]
    list_select_related = ["shop", "lead", "generation__model__make"]
    readonly_fields = ["public_token", "created_at"]
    inlines = [EstimateVersionInline]
