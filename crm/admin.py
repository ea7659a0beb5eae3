from django.contrib import admin

from .models import CrmConnection, CrmLeadLink


@admin.register(CrmConnection)
class CrmConnectionAdmin(admin.ModelAdmin):
    list_display = ("shop", "kind", "enabled", "state", "error_at", "last_ok_at")
    list_filter = ("kind", "state", "enabled")
    list_select_related = ("shop",)
    search_fields = ("shop__name", "base_url")
    # The secrets never appear in the admin.
    exclude = ("webhook_url", "token")
    readonly_fields = ("state", "error_message", "error_at", "last_ok_at", "updated_at")


@admin.register(CrmLeadLink)
class CrmLeadLinkAdmin(admin.ModelAdmin):
    list_display = ("lead", "connection", "remote_id", "created_at")
    list_select_related = ("lead", "connection__shop")
    raw_id_fields = ("lead", "connection")
