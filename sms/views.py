from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from autoservice.tenancy import manager_required

from . import services
from .forms import SmsSettingsForm, TestSmsForm
from .models import SmsMessage


def _page(request, form=None, test_form=None, status=200) -> HttpResponse:
    conf = services.sms_settings(request.shop)
    context = {
        "conf": conf,
        "form": form or SmsSettingsForm(instance=conf),
        "test_form": test_form or TestSmsForm(),
        "recent": SmsMessage.objects.filter(shop=request.shop).select_related("lead")[:20],
        "sent_today": services.sms_sent_today(conf) if conf.pk else 0,
    }
    return render(request, "sms/settings.html", context, status=status)


@manager_required
def sms_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    conf = services.sms_settings(request.shop)
    form = SmsSettingsForm(request.POST, instance=conf)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    with transaction.atomic():
        conf = form.save()
        services.sms_settings_saved(conf)
    messages.success(request, _("Настройки SMS сохранены."))
    return redirect("sms:settings")


@manager_required
@require_POST
def sms_test(request: HttpRequest) -> HttpResponse:
    conf = services.sms_settings(request.shop)
    test_form = TestSmsForm(request.POST)
    if not conf.pk or not conf.configured:
        # Nothing typed is lost: the test form is only a phone, asked again once the gateway
        # is saved.
        messages.warning(request, _("Сначала сохраните настройки шлюза."))
        return redirect("sms:settings")
    if not test_form.is_valid():
        return _page(request, test_form=test_form, status=400)
    ok, said = services.sms_send_test(conf=conf, phone=test_form.cleaned_data["phone"])
    (messages.success if ok else messages.warning)(request, said)
    return redirect("sms:settings")
