from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("staff/campaigns/", views.campaign_list, name="list"),
    path("staff/campaigns/rules/new/", views.rule_edit, name="rule_new"),
    path("staff/campaigns/rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("staff/campaigns/new/", views.campaign_edit, name="campaign_new"),
    path("staff/campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("staff/campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("staff/campaigns/<int:pk>/send/", views.campaign_send, name="campaign_send"),
    path("m/<str:token>/", views.landing, name="landing"),
    path("m/<str:token>/stop/", views.unsubscribe, name="unsubscribe"),
]
