"""Case-scoped pages, mounted at /faelle/<case_id>/. Every view loads the case through the scoping selector."""

from django.urls import include, path

from kooperationsplan import views

app_name = "kp"

urlpatterns = [
    path("", views.case_overview, name="case"),
    path("zeitstrahl/", views.case_timeline, name="timeline"),
    path("potenzialanalyse/", views.potenzialanalyse_edit, name="pa"),
    path("plaene/", views.case_plans, name="plans"),
    path("massnahmen/", views.case_measures, name="measures"),
    path("termine/", views.case_appointments, name="appointments"),
    path("schreiben/", views.case_letters, name="letters"),
    path("aktion/<slug:action>/", views.case_action, name="action"),
    path("kp/", include("kooperationsplan.urls_editor")),
]
