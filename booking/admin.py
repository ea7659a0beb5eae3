from django.contrib import admin

from .models import Booking, BookingSettings


@admin.register(BookingSettings)
class BookingSettingsAdmin(admin.ModelAdmin):
    list_display = ["shop", "posts", "inspection_minutes", "repair_minutes", "horizon_days"]
    search_fields = ["shop__name"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["shop", "lead", "kind", "post", "starts_at", "ends_at", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["shop__name", "lead__customer_name", "lead__phone"]
    raw_id_fields = ["lead", "created_by"]
    readonly_fields = ["token", "created_at", "cancelled_at", "reminded_for"]
    date_hierarchy = "starts_at"
