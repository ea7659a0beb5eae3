from django.urls import path

from . import staff_views, views

public_urlpatterns = [
    path("s/<slug:slug>/calc/", views.calc_vehicle, name="calc_vehicle"),
    path(
        "s/<slug:slug>/calc/<int:generation_id>/<str:body>/", views.calc_damage, name="calc_damage"
    ),
    path(
        "s/<slug:slug>/calc/<int:generation_id>/<str:body>/estimate/",
        views.calc_estimate,
        name="calc_estimate",
    ),
    path(
        "s/<slug:slug>/calc/<int:generation_id>/<str:body>/send/",
        views.calc_send,
        name="calc_send",
    ),
    path("s/<slug:slug>/calc/e/<str:token>/", views.calc_result, name="calc_result"),
]

staff_urlpatterns = [
    path("", staff_views.estimate_list, name="estimate_list"),
    path("<int:estimate_id>/", staff_views.estimate_detail, name="estimate_detail"),
    path(
        "<int:estimate_id>/v<int:number>/print/",
        staff_views.estimate_print,
        name="estimate_print",
    ),
    path("<int:estimate_id>/v<int:number>/pdf/", staff_views.estimate_pdf, name="estimate_pdf"),
    path("settings/", staff_views.calc_settings, name="calc_settings"),
    path("prices/", staff_views.price_list, name="price_list"),
    path("prices/export.<str:fmt>", staff_views.price_export, name="price_export"),
]
