"""The intake API for the shop's CRM, included under /api/v1/ (see intake/API.md)."""

from django.urls import path

from . import api

urlpatterns = [
    path("intake/", api.records, name="api_intake_records"),
    path("intake/<int:record_id>/", api.record, name="api_intake_record"),
]
