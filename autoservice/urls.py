from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from intake import urls as intake_urls
from optima import urls as optima_urls
from smartcalc import urls as calc_urls

from . import health, views

staff_patterns = [
    path("", views.staff_home, name="staff_home"),
    path("settings/", views.shop_settings, name="shop_settings"),
    path("team/", views.team, name="team"),
    path("team/new/", views.member_create, name="member_create"),
    path("team/<int:member_id>/", views.member_edit, name="member_edit"),
    path("settings/api/", views.api_tokens, name="api_tokens"),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", health.healthz_ready, name="healthz"),
    path("healthz/live", health.healthz_live, name="healthz_live"),
    path("healthz/ready", health.healthz_ready, name="healthz_ready"),
    path("metrics", health.metrics, name="metrics"),
    path("staff/", include(staff_patterns)),
    path("staff/leads/", include("leads.urls")),
    path("staff/calc/", include(calc_urls.staff_urlpatterns)),
    path("", include(calc_urls.public_urlpatterns)),
    path("staff/parts/", include(optima_urls.staff_urlpatterns)),
    path("", include(optima_urls.public_urlpatterns)),
    path("staff/intake/", include(intake_urls.staff_urlpatterns)),
    path("api/v1/", include("intake.api_urls")),
    path("", include(intake_urls.public_urlpatterns)),
    path("photos/", include("leads.public_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Strings of the pages' scripts, in the request's language (domain djangojs).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("", include("photoportal.urls")),
]

admin.site.site_header = "Цифровая стойка автосервиса"
admin.site.site_title = "Администрирование платформы"

if settings.DEBUG:
    # Lets a developer see the branded error pages with DEBUG on.
    from django.views.defaults import page_not_found

    urlpatterns.append(path("__404__/", page_not_found, {"exception": Exception()}))
