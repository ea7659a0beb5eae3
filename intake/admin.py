"""Intake in the admin. A sealed record is evidence: the admin shows it with its shots, skips,
signatures and addenda and changes nothing in it. A template version that records were shot
against is never changed in place: saving it makes the next version."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Addendum, IntakeRecord, IntakeShot, ShotSkip, ShotSpec, ShotTemplate

# What the spec inline holds that is not the spec itself.
_SPEC_FORM_EXTRA = {"id", "template", "DELETE"}


def _template_in_use(template: ShotTemplate | None) -> bool:
    return (
        template is not None
        and template.pk is not None
        and (IntakeRecord.objects.filter(template=template).exists())
    )


class ShotSpecInline(admin.TabularInline):
    model = ShotSpec
    extra = 0


@admin.register(ShotTemplate)
class ShotTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "family", "version", "is_current"]
    list_filter = ["shop", "is_current"]
    list_select_related = ["shop"]
    inlines = [ShotSpecInline]

    def get_readonly_fields(self, request, obj=None):
        # Versions and the current flag follow from saving; shop and family name the chain.
        if obj is None:
            return ["version", "is_current", "created_at"]
        return ["shop", "family", "version", "is_current", "created_at"]

    def has_delete_permission(self, request, obj=None):
        if _template_in_use(obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not (change and _template_in_use(obj)):
            super().save_model(request, obj, form, change)
            return
        # Records keep the version they were shot against: this edit becomes the next one.
        with transaction.atomic():
            versions = ShotTemplate.objects.select_for_update().filter(
                shop=obj.shop_id, family=obj.family
            )
            previous = ShotTemplate.objects.get(pk=obj.pk)
            latest = versions.aggregate(v=Max("version"))["v"] or 0
            versions.update(is_current=False)
            obj.pk = None
            obj._state.adding = True
            obj.version = latest + 1
            obj.is_current = True
            obj.created_at = timezone.now()
            obj.save()
        request._intake_template_versioned_from = previous
        messages.info(
            request,
            gettext(
                "Версия %(old)s уже использована в актах и не меняется: изменения сохранены "
                "как версия %(new)s."
            )
            % {"old": previous.version, "new": obj.version},
        )

    def save_related(self, request, form, formsets, change):
        if getattr(request, "_intake_template_versioned_from", None) is None:
            super().save_related(request, form, formsets, change)
            return
        # The new version gets the shot list as edited; the old version's rows stay as
        # they are, for the records that point at them.
        new = form.instance
        for formset in formsets:
            # What the admin's change message reads; the old version's rows are untouched.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            for spec_form in formset.forms:
                data = spec_form.cleaned_data
                if not data or data.get("DELETE"):
                    continue
                if data.get("id") is None and not spec_form.has_changed():
                    continue
                fields = {k: v for k, v in data.items() if k not in _SPEC_FORM_EXTRA}
                ShotSpec.objects.create(template=new, **fields)


class _ReadOnlyInline(admin.TabularInline):
    """Rows of a record made at the intake screen: shown, never changed here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IntakeShotInline(_ReadOnlyInline):
    model = IntakeShot
    fields = ["spec", "sha256", "size_bytes", "received_at", "captured_at", "accepted"]


class ShotSkipInline(admin.TabularInline):
    model = ShotSkip
    extra = 0
    fields = ["spec", "reason", "created_at"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_sealed:
            return self.fields
        return self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return obj is not None and not obj.is_sealed and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_sealed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_sealed:
            return False
        return super().has_delete_permission(request, obj)


class AddendumInline(_ReadOnlyInline):
    model = Addendum
    fields = ["created_at", "text", "created_by", "sha256", "key_id"]


@admin.register(IntakeRecord)
class IntakeRecordAdmin(admin.ModelAdmin):
    list_display = ["number", "shop", "kind", "vehicle_id", "customer", "sealed_at"]
    list_filter = ["shop", "kind", "seal_kind"]
    list_select_related = ["shop"]
    search_fields = ["plate", "vin", "customer_name", "customer_phone"]
    inlines = [IntakeShotInline, ShotSkipInline, AddendumInline]

    # Past its legal hold a record's personal data is unreadable here too (152-FZ).
    PERSONAL_FIELDS = (
        "plate",
        "vin",
        "customer_name",
        "customer_phone",
        "customer_email",
        "belongings",
        "complaint",
        "customer_signature",
        "advisor_signature",
        "manifest",
    )

    @admin.display(description=_("госномер / VIN"))
    def vehicle_id(self, obj):
        return HIDDEN if obj.personal_data_hidden else f"{obj.plate} {obj.vin}".strip()

    @admin.display(description=_("клиент"))
    def customer(self, obj):
        return HIDDEN if obj.personal_data_hidden else obj.customer_name

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.personal_data_hidden:
            return [f for f in fields if f not in self.PERSONAL_FIELDS]
        return fields

    def get_inlines(self, request, obj):
        if obj is not None and obj.personal_data_hidden:
            return []
        return super().get_inlines(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # A sealed record is evidence: the admin shows it and changes nothing in it.
        if obj is not None and obj.is_sealed:
            return [field.name for field in obj._meta.fields]
        return [*IntakeRecord.SEAL_FIELDS, "public_token"]

    def has_change_permission(self, request, obj=None):
        # Without the change permission Django shows the record read-only, inlines
        # included, and refuses any POST to it.
        if obj is not None and obj.is_sealed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_sealed:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change and IntakeRecord.objects.filter(pk=obj.pk, sealed_at__isnull=False).exists():
            return  # never write a sealed record, whatever was posted
        super().save_model(request, obj, form, change)


HIDDEN = _("скрыто: срок хранения истёк")


@admin.register(ShotSkip)
class ShotSkipAdmin(admin.ModelAdmin):
    list_display = ["record", "spec", "reason"]
    list_select_related = ["record", "spec"]
    readonly_fields = ["record", "spec", "created_at"]

    def has_add_permission(self, request):
        return False  # a skip is given at the intake screen, with its reason

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.record.is_sealed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.record.is_sealed:
            return False
        return super().has_delete_permission(request, obj)


class AddendumAddForm(forms.ModelForm):
    class Meta:
        model = Addendum
        fields = ["record", "text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record"].queryset = IntakeRecord.objects.filter(
            sealed_at__isnull=False
        ).select_related("shop")

    def clean(self):
        data = super().clean()
        record, text = data.get("record"), (data.get("text") or "").strip()
        if record is not None and not record.is_sealed:
            raise ValidationError(_("Пока акт не подписан, исправьте его прямо в акте."))
        if "text" in data and not text:
            self.add_error("text", _("Дополнение пустое."))
        return data


@admin.register(Addendum)
class AddendumAdmin(admin.ModelAdmin):
    list_display = ["record", "created_at", "text"]
    list_select_related = ["record"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AddendumAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["record", "text"]
        return ["record", "text", "created_by", "created_at", "sha256", "key_id"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return False  # an addendum is chained to the seal: it is added, never changed

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: chained to the record's seal and its last addendum, keyed.
        membership = getattr(request.user, "membership", None)
        if membership is not None and membership.shop_id != obj.record.shop_id:
            membership = None
        added = services.addendum_add(record=obj.record, by=membership, text=obj.text)
        for name in ("id", "text", "created_by_id", "created_at", "sha256", "key_id"):
            setattr(obj, name, getattr(added, name))
        obj._state.adding = False
