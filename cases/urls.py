from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("neu/", views.case_create, name="create"),
]
