"""Celery application. The beat schedule lives here in code (DESIGN.md "Jobs")."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kooperationsplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The mass letter run's task lives with its selection and per-case step (kooperationsplan/massrun.py).
app.autodiscover_tasks(related_name="massrun")

# The beat schedule lives in code (DESIGN.md "Jobs").
app.conf.beat_schedule = {
    # The Letter row is the outbox: letters not yet handed to a worker (broker down) are sent again.
    "dispatch-pending-letters": {"task": "letters.tasks.dispatch_pending_letters", "schedule": 300.0},
}
