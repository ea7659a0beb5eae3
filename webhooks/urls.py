from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("staff/settings/webhooks/", views.endpoint_list, name="endpoints"),
    path("staff/settings/webhooks/docs/", views.endpoint_docs, name="docs"),
    path("staff/settings/webhooks/<int:endpoint_id>/", views.endpoint_detail, name="endpoint"),
]
