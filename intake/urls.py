from django.urls import path

from . import export, views

staff_urlpatterns = [
    path("", views.intake_list, name="intake_list"),
    path("new/", views.intake_start, name="intake_start"),
    path("vin/", views.vin_lookup, name="intake_vin"),
    path("templates/", views.template_list, name="intake_templates"),
    path("templates/<int:template_id>/", views.template_edit, name="intake_template_edit"),
    path("<int:record_id>/", views.intake_record, name="intake_record"),
    path("<int:record_id>/shots/", views.shot_upload, name="intake_shot_upload"),
    path(
        "<int:record_id>/shots/<int:shot_id>/discard/",
        views.shot_discard,
        name="intake_shot_discard",
    ),
    path(
        "<int:record_id>/shots/<int:shot_id>/<str:kind>/",
        views.shot_image,
        name="intake_shot_image",
    ),
    path("<int:record_id>/skip/", views.shot_skip, name="intake_skip"),
    path("<int:record_id>/sign/", views.intake_sign, name="intake_sign"),
    path("<int:record_id>/act.pdf", views.intake_act, name="intake_act"),
    path("<int:record_id>/verify/", views.intake_verify, name="intake_verify"),
    path("<int:record_id>/addendum/", views.intake_addendum, name="intake_addendum"),
    path("<int:record_id>/return/", views.intake_return, name="intake_return"),
    path("<int:record_id>/compare/", views.intake_compare, name="intake_compare"),
    path("<int:record_id>/export.zip", export.record_zip, name="intake_export"),
]

public_urlpatterns = [
    path("s/<slug:slug>/act/<str:token>/", views.public_act, name="intake_public_act"),
]
