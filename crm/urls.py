from django.urls import path

from . import views

app_name = "crm"

urlpatterns = [
    path("staff/settings/crm/", views.crm_settings, name="crm_settings"),
    path("staff/settings/crm/<slug:kind>/", views.crm_save, name="crm_save"),
    path("staff/settings/crm/<int:connection_id>/check/", views.crm_check, name="crm_check"),
    path("staff/settings/crm/<int:connection_id>/test/", views.crm_test, name="crm_test"),
]
