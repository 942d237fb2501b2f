# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: install run test lint check-migrations check-deploy pytest system-packages clean-local

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Install exactly what uv.lock pins (never re-resolve).
install: $(UV)
	$(UV) sync --frozen --quiet

run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo --pdf
	DJANGO_DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

system-packages:
	bash scripts/install-system-packages.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

check-migrations: install
	DJANGO_TESTING=1 $(PY) manage.py makemigrations --check --dry-run

test: install system-packages lint check-migrations
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup

clean-local:
	rm -rf .local
