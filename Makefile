# LIFES Hub — the two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install sysdeps run test bench lint format clean

$(STAMP): pyproject.toml setup.py lifes_node/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	# The node package first: the hub depends on it (lifes_node/pyproject.toml).
	$(PY) -m pip install --quiet -e ./lifes_node
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Serve the demo on http://127.0.0.1:8000 with SQLite and eager Celery; e-mails link to the
# address it serves on (HUB_URL), whatever HOST and PORT are.
RUN_ENV := DEBUG=1 HUB_URL=http://$(HOST):$(PORT)
run: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Debian packages the tests use: Chromium for the browser tests (Playwright drives it; no
# browser download) and gettext's msgfmt for the catalogue check.
SYSDEPS := chromium:/usr/bin/chromium gettext:/usr/bin/msgfmt
sysdeps:
	@missing=""; for pair in $(SYSDEPS); do \
	  [ -x "$${pair#*:}" ] || missing="$$missing $${pair%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "apt-get install$$missing"; \
	    (apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq $$missing >/dev/null)); \
	  else echo "Install these Debian packages for the browser tests:$$missing"; fi; \
	fi

# The whole suite; uses DATABASE_URL / CELERY_BROKER_URL when they are set (CI sets both).
# In PYTEST_WORKERS processes (pytest-xdist; each has its own test database, uploads and keys);
# --dist loadgroup keeps the tests that share a broker or a port on one worker (tests/conftest.py).
PYTEST_WORKERS ?= auto
test: install sysdeps
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install
	@set -e; for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script; done

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .test-media .pytest_cache
