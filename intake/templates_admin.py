"""Shops copy and edit shot lists; every save is a new version (records keep theirs)."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from autoservice.models import Shop

from .models import ShotSpec, ShotTemplate


class SpecForm(forms.Form):
    code = forms.SlugField(label=_("Код"), max_length=40)
    name = forms.CharField(label=_("Кадр"), max_length=120)
    instruction = forms.CharField(label=_("Как снимать"), max_length=300)
    guide = forms.CharField(label=_("Контур"), max_length=40, required=False)
    required = forms.BooleanField(label=_("Обязательный"), required=False)
    min_count = forms.IntegerField(label=_("Минимум кадров"), min_value=0, max_value=50)
    is_damage = forms.BooleanField(label=_("Повреждения крупно"), required=False)
    position = forms.IntegerField(label=_("Порядок"), min_value=1, max_value=200)


class BaseSpecFormSet(forms.BaseFormSet):
    def clean(self):
        codes = [
            f.cleaned_data["code"]
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if len(codes) != len(set(codes)):
            raise forms.ValidationError(_("Коды кадров должны быть разными."))
        if not codes:
            raise forms.ValidationError(_("В шаблоне должен остаться хотя бы один кадр."))


SpecFormSet = forms.formset_factory(
    SpecForm, formset=BaseSpecFormSet, extra=1, can_delete=True, max_num=100
)


def initial(template: ShotTemplate) -> list[dict]:
    return [
        {
            "code": spec.code,
            "name": spec.name,
            "instruction": spec.instruction,
            "guide": spec.guide,
            "required": spec.required,
            "min_count": spec.min_count,
            "is_damage": spec.is_damage,
            "position": spec.position,
        }
        for spec in template.specs.all()
    ]


@transaction.atomic
def save_new_version(*, shop: Shop, template: ShotTemplate, name: str, formset) -> ShotTemplate:
    """A platform template saved by a shop becomes the shop's own copy (version 1); a shop's
    template gets the next version. The old version stays for the records that used it."""
    version = (
        ShotTemplate.objects.filter(shop=shop, family=template.family).aggregate(v=Max("version"))[
            "v"
        ]
        or 0
    ) + 1
    ShotTemplate.objects.filter(shop=shop, family=template.family).update(is_current=False)
    new = ShotTemplate.objects.create(
        shop=shop, family=template.family, version=version, name=name.strip()[:120] or template.name
    )
    rows = sorted(
        (
            f.cleaned_data
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ),
        key=lambda row: row["position"],
    )
    for position, row in enumerate(rows, start=1):
        ShotSpec.objects.create(
            template=new,
            position=position,
            code=row["code"],
            name=row["name"],
            instruction=row["instruction"],
            guide=row.get("guide", ""),
            required=row.get("required", False),
            min_count=row["min_count"],
            is_damage=row.get("is_damage", False),
        )
    return new
