from django.urls import path

from . import views

app_name = "booking"

urlpatterns = [
    path("s/<slug:slug>/book/<str:token>/", views.book, name="book"),
    path("s/<slug:slug>/visit/<str:token>/", views.visit, name="visit"),
    path("s/<slug:slug>/visit/<str:token>/visit.ics", views.visit_ics, name="visit_ics"),
    path("s/<slug:slug>/visit/<str:token>/move/", views.visit_move, name="visit_move"),
    path("s/<slug:slug>/visit/<str:token>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("staff/bookings/", views.board, name="board"),
    path("staff/bookings/new/", views.staff_book, name="staff_book"),
    path("staff/bookings/<int:booking_id>/", views.staff_booking, name="staff_booking"),
    path("staff/bookings/<int:booking_id>/move/", views.board_move, name="board_move"),
    path("staff/bookings/settings/", views.capacity_settings, name="capacity"),
]
