from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from . import health, push_views, views
from .forms import LoginForm

# Every app's URLs carry its namespace (`leads:inbox`, `smartcalc:calc_vehicle`, ...) and
# their full paths: staff pages under /staff/, the drivers' pages under /s/<shop>/.
urlpatterns = [
    path("", include("autoservice.shop_urls")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", health.healthz_ready, name="healthz"),
    path("healthz/live", health.healthz_live, name="healthz_live"),
    path("healthz/ready", health.healthz_ready, name="healthz_ready"),
    path("metrics", health.metrics, name="metrics"),
    # The events process (uvicorn) serves this; nginx routes /events/ to it unbuffered.
    path("events/shop/", push_views.shop_stream, name="push_stream"),
    path("", include("customers.urls")),
    path("", include("leads.urls")),
    path("", include("booking.urls")),
    path("", include("smartcalc.urls")),
    path("", include("optima.urls")),
    path("", include("intake.urls")),
    path("", include("api.urls")),
    path("", include("crm.urls")),
    path("", include("webhooks.urls")),
    path("", include("analytics.urls")),
    path("", include("sms.urls")),
    path("", include("campaigns.urls")),
    path("", include("messengers.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Strings of the pages' scripts, in the request's language (domain djangojs).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("photoportal.urls")),
]

handler400 = "autoservice.views.bad_request"

admin.site.site_header = "Цифровая стойка автосервиса"
admin.site.site_title = "Администрирование платформы"

if settings.LOADTEST_CEILING_VIEW:
    from .ceiling import shop_name_by_pk

    urlpatterns.append(path("loadtest/ceiling/<int:pk>/", shop_name_by_pk))

if settings.DEBUG:
    # Lets a developer see the branded error pages with DEBUG on.
    from django.views.defaults import page_not_found

    urlpatterns.append(path("__404__/", page_not_found, {"exception": Exception()}))
