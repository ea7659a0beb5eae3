"""The manager's page for handing an advisor's customers to another (under the team pages)."""

from django.urls import path

from . import views_reassign

app_name = "customer_reassign"

urlpatterns = [
    path(
        "staff/team/<int:member_id>/customers/",
        views_reassign.member_customers_reassign,
        name="member_customers",
    ),
]
