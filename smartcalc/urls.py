from django.urls import path

from . import staff_views, views

app_name = "smartcalc"

# The driver's calculator on the shop's public pages.
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

# Estimates and calculator settings for staff, under /staff/calc/.
staff_urlpatterns = [
    path("staff/calc/", staff_views.estimate_list, name="estimate_list"),
    path("staff/calc/<int:estimate_id>/", staff_views.estimate_detail, name="estimate_detail"),
    path(
        "staff/calc/<int:estimate_id>/v<int:number>/print/",
        staff_views.estimate_print,
        name="estimate_print",
    ),
    path(
        "staff/calc/<int:estimate_id>/v<int:number>/pdf/",
        staff_views.estimate_pdf,
        name="estimate_pdf",
    ),
    path(
        "staff/calc/<int:estimate_id>/v<int:number>/export.<str:fmt>",
        staff_views.estimate_export,
        name="estimate_export",
    ),
    path("staff/calc/settings/", staff_views.calc_settings, name="calc_settings"),
    path("staff/calc/prices/", staff_views.price_list, name="price_list"),
    path("staff/calc/prices/export.<str:fmt>", staff_views.price_export, name="price_export"),
]

urlpatterns = public_urlpatterns + staff_urlpatterns
