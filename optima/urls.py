from django.urls import path

from . import views

staff_urlpatterns = [
    path("", views.parts_search, name="parts_search"),
    path("<int:search_id>/", views.parts_results, name="parts_results"),
    path("<int:search_id>/table/", views.parts_table, name="parts_table"),
    path("<int:search_id>/offer/", views.offer_build, name="offer_build"),
    path("suppliers/", views.suppliers, name="suppliers"),
    path("suppliers/new/", views.supplier_edit, name="supplier_create"),
    path("suppliers/<int:supplier_id>/", views.supplier_edit, name="supplier_edit"),
    path("offers/<int:version_id>/", views.offer_detail, name="offer_detail"),
]

public_urlpatterns = [
    path("s/<slug:slug>/o/<str:token>/", views.offer_public, name="offer_public"),
]
