from django.urls import path

from . import ordering_views, views

app_name = "optima"

urlpatterns = [
    path("staff/parts/", views.parts_search, name="parts_search"),
    path("staff/parts/<int:search_id>/", views.parts_results, name="parts_results"),
    path("staff/parts/<int:search_id>/table/", views.parts_table, name="parts_table"),
    path("staff/parts/<int:search_id>/offer/", views.offer_build, name="offer_build"),
    path("staff/parts/suppliers/", views.suppliers, name="suppliers"),
    path("staff/parts/suppliers/new/", views.supplier_edit, name="supplier_create"),
    path("staff/parts/suppliers/<int:supplier_id>/", views.supplier_edit, name="supplier_edit"),
    path("staff/parts/offers/<int:version_id>/", views.offer_detail, name="offer_detail"),
    path(
        "staff/parts/offers/<int:version_id>/order/",
        ordering_views.order_confirm,
        name="order_confirm",
    ),
    path("staff/parts/orders/", ordering_views.orders_list, name="orders"),
    path("staff/parts/orders/<int:order_id>/", ordering_views.order_detail, name="order_detail"),
    path(
        "staff/parts/orders/<int:order_id>/cancel/",
        ordering_views.order_cancel,
        name="order_cancel",
    ),
    # The driver opens the offer by its private link.
    path("s/<slug:slug>/o/<str:token>/", views.offer_public, name="offer_public"),
]
