"""The shop's own pages: the platform's landing page and, for staff, the start page, the
shop's settings, its team and its API tokens."""

from django.urls import path

from . import subject_views, views

app_name = "autoservice"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/settings/", views.shop_settings, name="shop_settings"),
    path("staff/team/", views.team, name="team"),
    path("staff/team/new/", views.member_create, name="member_create"),
    path("staff/team/<int:member_id>/", views.member_edit, name="member_edit"),
    path("staff/settings/api/", views.api_tokens, name="api_tokens"),
    path("staff/access-log/", views.access_log, name="access_log"),
    path("staff/personal-data/", subject_views.subject_search, name="personal_data"),
    path("staff/personal-data/export/", subject_views.subject_export, name="personal_data_export"),
    path("staff/personal-data/erase/", subject_views.subject_erase, name="personal_data_erase"),
    path(
        "staff/personal-data/acts/<int:act_id>/",
        subject_views.destruction_act,
        name="destruction_act",
    ),
    path(
        "staff/personal-data/acts/<int:act_id>/pdf/",
        subject_views.destruction_act_pdf,
        name="destruction_act_pdf",
    ),
]
