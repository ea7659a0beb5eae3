from django.urls import path

from . import views

app_name = "sms"

urlpatterns = [
    path("staff/settings/sms/", views.sms_settings, name="settings"),
    path("staff/settings/sms/test/", views.sms_test, name="test"),
]
