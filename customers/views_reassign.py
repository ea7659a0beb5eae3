"""The manager hands an advisor's customers to another (an advisor leaves, goes on leave):
all of them or those ticked, each with a line on the customer's timeline."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from autoservice.models import Membership
from autoservice.tenancy import get_for_shop, manager_required

from .selectors import customers_of_manager
from .services import customers_reassign


class ReassignForm(forms.Form):
    to_member = forms.ModelChoiceField(
        label=gettext_lazy("Кому передать"),
        queryset=Membership.objects.none(),
        empty_label=gettext_lazy("— выберите сотрудника —"),
        error_messages={
            "required": gettext_lazy("Выберите сотрудника, которому передать клиентов."),
            "invalid_choice": gettext_lazy(
                "Этого сотрудника нет среди работающих: выберите другого."
            ),
        },
    )
    customers = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Клиенты"),
        coerce=int,
        error_messages={
            "required": gettext_lazy("Отметьте хотя бы одного клиента."),
            "invalid_choice": gettext_lazy(
                "Список клиентов изменился, пока страница была открыта: проверьте отметки."
            ),
        },
    )

    def __init__(self, *args, from_member: Membership, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_member"].queryset = (
            Membership.objects.filter(shop_id=from_member.shop_id, user__is_active=True)
            .exclude(pk=from_member.pk)
            .select_related("user")
            .order_by("user__last_name", "user__first_name")
        )
        self.fields["to_member"].label_from_instance = lambda m: m.display_name
        self.fields["customers"].choices = [(c.pk, str(c)) for c in customers]
        if not self.is_bound:
            self.initial["customers"] = [c.pk for c in customers]


@manager_required
@require_http_methods(["GET", "POST"])
def member_customers_reassign(request: HttpRequest, member_id: int) -> HttpResponse:
    from_member = get_for_shop(request, Membership.objects.select_related("user"), pk=member_id)
    customers = list(customers_of_manager(shop=request.shop, member=from_member))
    form = ReassignForm(request.POST or None, from_member=from_member, customers=customers)
    if request.method == "POST" and form.is_valid():
        to_member = form.cleaned_data["to_member"]
        try:
            moved = customers_reassign(
                shop=request.shop,
                from_member=from_member,
                to_member=to_member,
                by=request.membership,
                customer_ids=form.cleaned_data["customers"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Передано клиентов: %(n)s, теперь их менеджер — %(name)s.")
                % {"n": moved, "name": to_member.display_name},
            )
            return redirect("customer_reassign:member_customers", member_id=from_member.pk)
    chosen = set(form["customers"].value() or [])
    rows = [(c, str(c.pk) in {str(x) for x in chosen}) for c in customers]
    return render(
        request,
        "customers/member_customers.html",
        {"member": from_member, "form": form, "rows": rows},
        status=400 if form.is_bound and form.errors else 200,
    )
