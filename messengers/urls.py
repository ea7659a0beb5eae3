from django.urls import path

from . import views

app_name = "messengers"

urlpatterns = [
    path("staff/settings/messengers/", views.bot_settings, name="settings"),
    path("staff/settings/messengers/<str:kind>/", views.bot_action, name="bot_action"),
    path("staff/profile/messengers/", views.profile, name="profile"),
    path("staff/profile/messengers/<str:kind>/", views.profile_action, name="profile_action"),
]
