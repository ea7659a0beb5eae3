from django.contrib import admin

from .models import MarketingConsent, SmsMessage, SmsSettings


@admin.register(SmsSettings)
class SmsSettingsAdmin(admin.ModelAdmin):
    list_display = ("shop", "gateway", "enabled", "daily_limit", "error_at")
    list_select_related = ("shop",)
    # The secrets never appear in the admin.
    exclude = ("api_key", "password")
    readonly_fields = ("error_message", "error_at", "updated_at")


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("shop", "phone", "purpose", "status", "gateway_id", "sent_at")
    list_filter = ("status", "purpose", "gateway")
    list_select_related = ("shop",)
    raw_id_fields = ("lead",)


@admin.register(MarketingConsent)
class MarketingConsentAdmin(admin.ModelAdmin):
    list_display = ("shop", "phone", "given_at", "withdrawn_at")
    list_select_related = ("shop",)
