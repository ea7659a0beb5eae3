from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("api/v1/leads/", views.LeadList.as_view(), name="leads"),
    path("api/v1/leads/<int:lead_id>/", views.LeadDetail.as_view(), name="lead"),
    path("api/v1/leads/<int:lead_id>/status/", views.LeadStatus.as_view(), name="lead_status"),
    path(
        "api/v1/leads/<int:lead_id>/assignee/", views.LeadAssignee.as_view(), name="lead_assignee"
    ),
    path("api/v1/estimates/", views.EstimateList.as_view(), name="estimates"),
    path("api/v1/estimates/<int:estimate_id>/", views.EstimateDetail.as_view(), name="estimate"),
    path(
        "api/v1/estimates/<int:estimate_id>/versions/<int:number>/export",
        views.EstimateExport.as_view(),
        name="estimate_export",
    ),
    path("api/v1/offers/", views.OfferList.as_view(), name="offers"),
    path("api/v1/offers/<int:offer_id>/", views.OfferDetail.as_view(), name="offer"),
    path("api/v1/orders/", views.OrderList.as_view(), name="orders"),
    path("api/v1/orders/<int:order_id>/", views.OrderDetail.as_view(), name="order"),
    path("api/v1/intake/records/", views.IntakeRecordList.as_view(), name="intake_records"),
    path(
        "api/v1/intake/records/<int:record_id>/",
        views.IntakeRecordDetail.as_view(),
        name="intake_record",
    ),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "api/v1/redoc/",
        views.RedocView.as_view(url_name="api:schema"),
        name="redoc",
    ),
    path("api/problems/<slug:slug>", views.problem_page, name="problem"),
    # Any other address under /api/v1/ (a negative id, a typo) is a problem document too.
    re_path(r"^api/v1/", views.not_found, name="not_found"),
]
