from django.urls import path

from . import views

urlpatterns = [
    path("s/<slug:slug>/", views.shop_page, name="shop_page"),
    path("s/<slug:slug>/logo", views.shop_logo, name="shop_logo"),
]
