from django.urls import path

from . import views

app_name = "photoportal"

urlpatterns = [
    path("s/<slug:slug>/", views.shop_page, name="shop_page"),
    path("s/<slug:slug>/logo", views.shop_logo, name="shop_logo"),
    path("s/<slug:slug>/photo/", views.photo_form, name="photo_form"),
    path("s/<slug:slug>/photo/upload/", views.photo_upload, name="photo_upload"),
    path(
        "s/<slug:slug>/photo/upload/<uuid:client_id>/delete/",
        views.photo_upload_delete,
        name="photo_upload_delete",
    ),
    path("s/<slug:slug>/photo/sent/<str:token>/", views.photo_sent, name="photo_sent"),
]
