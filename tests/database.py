"""The test database as a DATABASE_URL, for the subprocesses some tests start (Celery worker, beat, manage.py)."""

from __future__ import annotations

from urllib.parse import quote

from django.db import connection


def database_url(name: str | None = None) -> str:
    """A URL for the test database (or another database `name` on the same server).

    The embedded server (DATABASE_URL unset) listens on a Unix socket: its HOST is a directory and its PORT empty.
    A socket directory goes into the host part percent-encoded, which dj-database-url and libpq both understand.
    """
    settings = connection.settings_dict
    host = settings["HOST"] or ""
    if host.startswith("/"):
        host = quote(host, safe="")
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    user = quote(settings["USER"] or "", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}{port}/{name or settings['NAME']}"
