from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("staff/analytics/", views.analytics_page, name="analytics"),
    path("staff/analytics/campaigns/", views.analytics_campaigns, name="analytics_campaigns"),
    path("staff/analytics/refresh/", views.analytics_refresh, name="analytics_refresh"),
    path(
        "staff/analytics/export/<slug:key>/<str:fmt>/",
        views.analytics_export,
        name="analytics_export",
    ),
]
