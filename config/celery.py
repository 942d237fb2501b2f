"""Celery application. The beat schedule lives here in code (DESIGN.md "Jobs")."""

import os

from celery import Celery
from celery.schedules import crontab

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
    # The nightly deadline scans (RULES.md section 7). 01:30 Berlin time exists exactly once every day: the
    # clocks change between 02:00 and 03:00, so a 02:00 schedule would be skipped in March and could run
    # twice in October (CELERY_TIMEZONE is Europe/Berlin).
    "nightly-scans": {"task": "kooperationsplan.tasks.nightly_scans", "schedule": crontab(hour=1, minute=30)},
    # The daily e-mail digest, after the scans and before the working day.
    "notification-digest": {
        "task": "kooperationsplan.tasks.notification_digest",
        "schedule": crontab(hour=6, minute=30),
    },
}
