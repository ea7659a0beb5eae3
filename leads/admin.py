import json

from django.contrib import admin
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .models import Lead, LeadDeletion, LeadEvent, LeadPhoto
from .photos import photo_delete_files


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "actor", "text"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class LeadPhotoInline(admin.TabularInline):
    model = LeadPhoto
    extra = 0
    can_delete = False
    fields = ["original_name", "format", "width", "height", "size_bytes", "sha256", "state"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _record_deletion(lead: Lead, user) -> None:
    snapshot = serializers.serialize("python", [lead])[0]["fields"]
    snapshot["events"] = list(lead.events.values("created_at", "kind", "text"))
    LeadDeletion.objects.create(
        shop=lead.shop,
        lead_number=lead.number,
        snapshot=json.loads(json.dumps(snapshot, cls=DjangoJSONEncoder)),
        deleted_by=user,
    )
    # The photo rows go with the lead; their files (the original may carry GPS) go too, once
    # the deletion is committed.
    photos = list(lead.photos.all())
    transaction.on_commit(lambda: [photo_delete_files(photo) for photo in photos])


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["number", "shop", "customer_name", "phone", "channel", "status", "created_at"]
    list_filter = ["status", "channel", "shop"]
    list_select_related = ["shop"]
    search_fields = ["customer_name", "phone", "plate", "=number"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "shop",
        "number",
        "public_token",
        "consent",
        "repeat_of",
        "created_at",
        "opened_at",
        "first_response_at",
        "sla_due_at",
        "escalated_at",
        "status_changed_at",
    ]
    inlines = [LeadPhotoInline, LeadEventInline]

    def has_delete_permission(self, request, obj=None):
        # Only platform superusers delete leads (for example on a data-subject request),
        # and every deletion leaves a LeadDeletion record.
        return request.user.is_superuser

    @transaction.atomic
    def delete_model(self, request, obj):
        _record_deletion(obj, request.user)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for lead in queryset.select_related("shop"):
            _record_deletion(lead, request.user)
        super().delete_queryset(request, queryset)


@admin.register(LeadDeletion)
class LeadDeletionAdmin(admin.ModelAdmin):
    list_display = ["lead_number", "shop", "deleted_by", "deleted_at"]
    list_select_related = ["shop", "deleted_by"]
    readonly_fields = ["shop", "lead_number", "snapshot", "deleted_by", "deleted_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
