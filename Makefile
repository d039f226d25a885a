# IPT Clinic. `make run` for the demo, `make test` for the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The first Python 3.12+ found: python3.13, python3.12, or a pyenv install of either.
PYTHON ?= $(shell for c in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3.1[23] /usr/bin/python3.1[23]; do $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$c; break; }; done)

.PHONY: install assets migrate demo run test lint bench load clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 / python3.13)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed assets

static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/htmx.org/dist/htmx.min.js static/vendor/
	touch $@

assets: static/vendor/.installed

migrate: install
	MFA_REQUIRED=false $(PY) manage.py migrate --noinput

demo: migrate
	MFA_REQUIRED=false $(PY) manage.py seed_demo

run: demo
	MFA_REQUIRED=false bash scripts/run-demo.sh

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) bench/run.py

load: install
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) var node_modules static/vendor staticfiles
