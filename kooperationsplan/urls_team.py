"""The team lead's pages under /team/ (RULES.md 5.4): the escalation queue, its items, the team figures."""

from django.urls import path

from kooperationsplan import team_views

app_name = "team"

urlpatterns = [
    path("", team_views.desk, name="desk"),
    path("ueberpruefung/<int:plan_id>/", team_views.review_detail, name="review"),
    path("ueberpruefung/<int:plan_id>/<slug:action>/", team_views.review_action, name="review_action"),
    path("vorlage/<int:approval_id>/", team_views.request_detail, name="request"),
    path("vorlage/<int:approval_id>/<slug:action>/", team_views.request_action, name="request_action"),
    path("freigabe/<int:letter_id>/", team_views.letter_detail, name="letter"),
    path("freigabe/<int:letter_id>/<slug:action>/", team_views.letter_action, name="letter_action"),
    path("kennzahlen/", team_views.figures_page, name="figures"),
    path("kennzahlen/csv/", team_views.figures_csv, name="figures_csv"),
]
