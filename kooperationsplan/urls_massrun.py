"""Mass letter runs (Serienbriefe), mounted at /serienbriefe/."""

from django.urls import path

from kooperationsplan import massrun

app_name = "massrun"

urlpatterns = [
    path("", massrun.massrun_index, name="index"),
    path("vorschau/<int:case_id>/", massrun.massrun_preview, name="preview"),
    path("<int:run_id>/", massrun.massrun_run, name="run"),
    path("<int:run_id>/fortschritt/", massrun.massrun_progress_fragment, name="progress"),
    path("<int:run_id>/wiederholen/", massrun.massrun_retry, name="retry"),
    path("<int:run_id>/fortsetzen/", massrun.massrun_continue, name="continue"),
]
