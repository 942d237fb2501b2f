"""Letter pages of a case, mounted at /faelle/<case_id>/schreiben/ (the list itself is the case tab kp:letters)."""

from django.urls import path

from letters import views

app_name = "letters"

urlpatterns = [
    path("<int:letter_id>/", views.letter_preview, name="preview"),
    path("<int:letter_id>/pdf/", views.letter_pdf, name="pdf"),
    path("<int:letter_id>/status/", views.letter_status, name="status"),
]
