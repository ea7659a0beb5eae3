"""The rollups in the Django admin: read-only (they are derived; `facts_rebuild` remakes them)."""

from django.contrib import admin

from .models import EstimateCheck, LeadFact, OfferPick, RefreshState, SupplierDay


class ReadOnly(admin.ModelAdmin):
    list_filter = ("shop",)
    list_select_related = ("shop",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LeadFact)
class LeadFactAdmin(ReadOnly):
    list_display = ("lead_id", "shop", "local_date", "source", "response_s", "in_sla", "stage")
    list_filter = ("shop", "source", "stage", "lost")
    date_hierarchy = "local_date"


@admin.register(OfferPick)
class OfferPickAdmin(ReadOnly):
    list_display = ("version_id", "position", "shop", "local_date", "kind", "supplier_name")
    list_filter = ("shop", "kind", "quality")


@admin.register(EstimateCheck)
class EstimateCheckAdmin(ReadOnly):
    list_display = ("estimate_id", "shop", "model_name", "part", "found_pct")


@admin.register(SupplierDay)
class SupplierDayAdmin(ReadOnly):
    list_display = ("supplier", "day", "answers", "timeouts", "errors", "marked", "on_time")
    list_select_related = ("shop", "supplier")


@admin.register(RefreshState)
class RefreshStateAdmin(ReadOnly):
    list_display = ("shop", "refreshed_at")
