from django.urls import path

from . import views

# Signed, expiring links to photo renditions (sent in notification e-mails).
urlpatterns = [path("<str:token>/", views.photo_signed, name="photo_signed")]
