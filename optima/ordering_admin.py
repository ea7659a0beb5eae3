"""Admin of supplier orders: read-only (orders change only through the supplier's answers)."""

from django.contrib import admin

from .ordering_models import SupplierOrder, SupplierOrderLine


class SupplierOrderLineInline(admin.TabularInline):
    model = SupplierOrderLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "brand",
        "number",
        "name",
        "qty",
        "price_agreed_rub",
        "price_confirmed_rub",
        "status",
        "reject_reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SupplierOrder)
class SupplierOrderAdmin(admin.ModelAdmin):
    list_display = [
        "client_number",
        "shop",
        "supplier",
        "supplier_number",
        "status",
        "test_mode",
        "created_at",
    ]
    list_filter = ["status", "test_mode"]
    list_select_related = ["shop", "supplier"]
    search_fields = ["client_number", "supplier_number", "supplier__name", "shop__name"]
    inlines = [SupplierOrderLineInline]
    readonly_fields = [
        "shop",
        "supplier",
        "version",
        "client_number",
        "supplier_number",
        "status",
        "test_mode",
        "created_by",
        "attempts",
        "lease_until",
        "last_error",
        "created_at",
        "placing_at",
        "placed_at",
        "confirmed_at",
        "rejected_at",
        "shipped_at",
        "delivered_at",
        "failed_at",
        "polled_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
