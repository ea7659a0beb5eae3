from django.contrib import admin

from .models import Addendum, IntakeRecord, IntakeShot, ShotSkip, ShotSpec, ShotTemplate


class ShotSpecInline(admin.TabularInline):
    model = ShotSpec
    extra = 0


@admin.register(ShotTemplate)
class ShotTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "family", "version", "is_current"]
    list_filter = ["shop", "is_current"]
    list_select_related = ["shop"]
    inlines = [ShotSpecInline]


class IntakeShotInline(admin.TabularInline):
    model = IntakeShot
    extra = 0
    can_delete = False
    fields = ["spec", "sha256", "received_at", "captured_at", "accepted"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IntakeRecord)
class IntakeRecordAdmin(admin.ModelAdmin):
    list_display = ["number", "shop", "kind", "plate", "vin", "customer_name", "sealed_at"]
    list_filter = ["shop", "kind"]
    list_select_related = ["shop"]
    search_fields = ["plate", "vin", "customer_name", "customer_phone"]
    inlines = [IntakeShotInline]

    def get_readonly_fields(self, request, obj=None):
        # A sealed record is evidence: the admin shows it and changes nothing in it.
        if obj is not None and obj.is_sealed:
            return [field.name for field in obj._meta.fields]
        return [*IntakeRecord.SEAL_FIELDS, "public_token"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_sealed:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change and IntakeRecord.objects.filter(pk=obj.pk, sealed_at__isnull=False).exists():
            return  # never write a sealed record, whatever was posted
        super().save_model(request, obj, form, change)


@admin.register(ShotSkip)
class ShotSkipAdmin(admin.ModelAdmin):
    list_display = ["record", "spec", "reason"]
    list_select_related = ["record", "spec"]


@admin.register(Addendum)
class AddendumAdmin(admin.ModelAdmin):
    list_display = ["record", "created_at", "text"]
    list_select_related = ["record"]
    readonly_fields = ["record", "text", "created_by", "created_at", "sha256"]

    def has_delete_permission(self, request, obj=None):
        return False
