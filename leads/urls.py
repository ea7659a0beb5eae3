from django.urls import path

from . import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("poll/", views.inbox_poll, name="inbox_poll"),
    path("<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path(
        "<int:lead_id>/photos/<int:photo_id>/<str:kind>/",
        views.lead_photo,
        name="lead_photo",
    ),
]
