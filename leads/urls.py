from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("staff/leads/", views.inbox, name="inbox"),
    path("staff/leads/poll/", views.inbox_poll, name="inbox_poll"),
    path("staff/leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("staff/leads/<int:lead_id>/row/", views.lead_row, name="lead_row"),
    path("staff/leads/<int:lead_id>/live/", views.lead_live, name="lead_live"),
    path(
        "staff/leads/<int:lead_id>/photos/<int:photo_id>/<str:kind>/",
        views.lead_photo,
        name="lead_photo",
    ),
    # Signed, expiring links to photo renditions (sent in notification e-mails).
    path("photos/<str:token>/", views.photo_signed, name="photo_signed"),
    # The driver withdraws consent to personal-data processing (the link in every page and
    # e-mail they get).
    path(
        "s/<slug:slug>/consent/withdraw/<str:token>/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
]
