from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("staff/customers/", views.customer_list, name="customer_list"),
    path("staff/customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("staff/search/", views.search, name="search"),
    # The driver's own page: the private link is its only key.
    path("c/<str:token>/", views.driver_page, name="driver_page"),
    path("s/<slug:slug>/my/", views.link_request, name="link_request"),
]
