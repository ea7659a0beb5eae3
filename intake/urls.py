from django.urls import path

from . import api, export, views

app_name = "intake"

urlpatterns = [
    path("staff/intake/", views.intake_list, name="intake_list"),
    path("staff/intake/new/", views.intake_start, name="intake_start"),
    path("staff/intake/vin/", views.vin_lookup, name="intake_vin"),
    path("staff/intake/templates/", views.template_list, name="intake_templates"),
    path(
        "staff/intake/templates/<int:template_id>/",
        views.template_edit,
        name="intake_template_edit",
    ),
    path("staff/intake/<int:record_id>/", views.intake_record, name="intake_record"),
    path("staff/intake/<int:record_id>/shots/", views.shot_upload, name="intake_shot_upload"),
    path(
        "staff/intake/<int:record_id>/shots/<int:shot_id>/discard/",
        views.shot_discard,
        name="intake_shot_discard",
    ),
    path(
        "staff/intake/<int:record_id>/shots/<int:shot_id>/<str:kind>/",
        views.shot_image,
        name="intake_shot_image",
    ),
    path("staff/intake/<int:record_id>/skip/", views.shot_skip, name="intake_skip"),
    path("staff/intake/<int:record_id>/sign/", views.intake_sign, name="intake_sign"),
    path("staff/intake/<int:record_id>/act.pdf", views.intake_act, name="intake_act"),
    path("staff/intake/<int:record_id>/verify/", views.intake_verify, name="intake_verify"),
    path("staff/intake/<int:record_id>/addendum/", views.intake_addendum, name="intake_addendum"),
    path("staff/intake/<int:record_id>/return/", views.intake_return, name="intake_return"),
    path("staff/intake/<int:record_id>/compare/", views.intake_compare, name="intake_compare"),
    path("staff/intake/<int:record_id>/export.zip", export.record_zip, name="intake_export"),
    # The customer's act by its private link.
    path("s/<slug:slug>/act/<str:token>/", views.public_act, name="intake_public_act"),
    # The intake API for the shop's CRM (see intake/API.md).
    path("api/v1/intake/", api.records, name="api_intake_records"),
    path("api/v1/intake/<int:record_id>/", api.record, name="api_intake_record"),
]
