# syntax=docker/dockerfile:1
# Production image for Kooperationsplan: gunicorn serves the web app, and the same image runs
# the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint runtime libraries (Pango, HarfBuzz subsetting for embedded fonts) and a base font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir uv==0.13.9

# uv installs into /app/.venv using the interpreter of this image and never downloads one.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. Installs exactly uv.lock,
# without the dev group (tests, linters, Playwright).
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:${PATH}" \
    DJANGO_SETTINGS_MODULE=config.settings

# Static files are collected at build time into STATIC_ROOT (.local/staticfiles) and served by
# WhiteNoise. The variables are set for this command only and do not stay in the image.
# collectstatic does not connect to the database; DATABASE_URL only keeps the settings from
# starting the embedded development server.
RUN DJANGO_SECRET_KEY=build-only \
    DJANGO_DEBUG=0 \
    DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput

# Run as an unprivileged user. The code stays owned by root and cannot be changed at run time.
# The user can write only to MEDIA_ROOT (.local/media) and to its home directory
# (fontconfig cache of WeasyPrint).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/.local/media \
    && chown app:app /app/.local/media
USER app

EXPOSE 8000

# GET /health/ checks the database (T10). The Host header is the first entry of
# DJANGO_ALLOWED_HOSTS, so that Django accepts the request. X-Forwarded-Proto stops
# SECURE_SSL_REDIRECT from answering with a redirect; in production a TLS proxy sets this header.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; hosts = [h.strip().lstrip('.') for h in os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',') if h.strip() not in ('', '*')]; req = u.Request('http://127.0.0.1:8000/health/', headers={'Host': (hosts or ['localhost'])[0], 'X-Forwarded-Proto': 'https'}); raise SystemExit(0 if u.urlopen(req, timeout=4).status == 200 else 1)"]

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
