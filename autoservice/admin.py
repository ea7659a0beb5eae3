from django.contrib import admin

from .models import (
    ApiToken,
    ConsentRecord,
    ConsentText,
    DestructionAct,
    Membership,
    OutboxMessage,
    PersonalDataAccess,
    PersonalDataPolicy,
    Shop,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["created_at"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "region", "phone", "is_active", "created_at"]
    list_filter = ["is_active", "region", "timezone"]
    search_fields = ["name", "slug", "address", "phone", "email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role", "shop"]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "user__email", "user__last_name", "shop__name"]
    autocomplete_fields = ["user", "shop"]
    readonly_fields = ["created_at"]


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "shop", "created_at"]
    list_filter = ["shop"]
    list_select_related = ["shop"]

    def get_readonly_fields(self, request, obj=None):
        # A published text is never edited: records cite it. Publish a new version instead.
        return ["shop", "version", "title", "body", "created_at"] if obj else ["created_at"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = [
        "subject_name",
        "subject_phone",
        "shop",
        "text",
        "accepted_at",
        "withdrawn_at",
        "ip_address",
    ]
    list_filter = ["shop"]
    list_select_related = ["shop", "text"]
    search_fields = ["subject_name", "subject_phone"]
    readonly_fields = [
        "shop",
        "text",
        "subject_name",
        "subject_phone",
        "accepted_at",
        "withdrawn_at",
        "ip_address",
        "user_agent",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["kind", "shop", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["shop"]
    readonly_fields = [
        "shop",
        "kind",
        "dedupe_key",
        "payload",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    actions = ["retry_now"]

    @admin.action(description="Отправить снова сейчас")
    def retry_now(self, request, queryset):
        from django.utils import timezone

        from .outbox import outbox_enqueue

        for message in queryset:
            message.status = "pending"
            message.next_attempt_at = timezone.now()
            message.save(update_fields=["status", "next_attempt_at"])
            outbox_enqueue(message.pk)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "shop",
        "prefix",
        "is_active",
        "expires_at",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["is_active", "shop"]
    list_select_related = ["shop"]
    readonly_fields = ["prefix", "token_sha256", "created_at", "last_used_at"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """The audit log is evidence: nobody edits or deletes it by hand (the daily task prunes
    what is past ACCESS_LOG_RETENTION_DAYS)."""

    list_display = ["created_at", "shop", "actor", "via_api", "action", "lead_number", "ip_address"]
    list_filter = ["action", "via_api", "shop"]
    list_select_related = ["shop"]
    search_fields = ["actor", "object_id", "=lead_number"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "shop",
        "user",
        "actor",
        "via_api",
        "action",
        "object_type",
        "object_id",
        "lead_number",
        "ip_address",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalDataPolicy)
class PersonalDataPolicyAdmin(admin.ModelAdmin):
    list_display = ["shop", "lost_lead_months", "claim_period_years", "intake_hold_years"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]


@admin.register(DestructionAct)
class DestructionActAdmin(admin.ModelAdmin):
    """Acts are evidence: read-only, never added or deleted by hand."""

    list_display = ["__str__", "shop", "reason", "performed_by_label", "files_count", "created_at"]
    list_filter = ["reason", "shop"]
    list_select_related = ["shop"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "shop",
        "created_at",
        "performed_by",
        "performed_by_label",
        "reason",
        "subject_hash",
        "categories",
        "files_count",
        "method",
        "held",
        "event_log",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
