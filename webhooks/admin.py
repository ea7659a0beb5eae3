from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "shop", "enabled", "created_at")
    list_filter = ("enabled",)
    list_select_related = ("shop",)
    search_fields = ("url", "description", "shop__name")
    # The secrets are never shown, not even to a platform administrator.
    exclude = ("secret", "previous_secret")
    readonly_fields = ("disabled_at", "created_at", "updated_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_id", "event_type", "endpoint", "status", "attempts", "created_at")
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    search_fields = ("event_id", "subject", "endpoint__url")
    raw_id_fields = ("endpoint", "lead", "shop")
    readonly_fields = (
        "event_id",
        "event_type",
        "subject",
        "payload",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "response_excerpt",
        "created_at",
        "delivered_at",
    )
