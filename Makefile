# IPT Clinic. `make run` for the demo, `make test` for the suite (see README.md).
# With DATABASE_URL / REDIS_URL set in the environment, both use PostgreSQL and Redis.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The first working Python 3.12+: python3.12, python3.13, or a pyenv install of either (a pyenv
# shim answers "command not found" when its version is not selected, so each is tried).
PYTHON ?= $(shell for c in python3.12 python3.13 $$HOME/.pyenv/versions/3.1[23]*/bin/python3 /usr/local/bin/python3.1[23] /usr/bin/python3.1[23] python3; do $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$c; break; }; done)

.PHONY: install assets browser pdf gettext messages migrate demo run test lint lock check-lock bench load clean

# Every dependency from requirements.lock, each file checked against the lock's hashes (pip
# refuses anything unpinned or unhashed); then the project itself, editable, adding nothing
# (--no-deps), built by the locked setuptools (--no-build-isolation: no unchecked download).
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3.12 or python3.13 on PATH, or PYTHON=/path/to/python3.12)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
# pip first, from the lock (its own entry, hash-checked): the pip a new venv comes with
# cannot hash-check a requirement with extras (pip-audit's CacheControl[filecache]).
	$(PIP) install -q --require-hashes --no-deps -r <(sed -n '/^pip==/,/# via/p' requirements.lock)
	$(PIP) install -q --require-hashes -r requirements.lock
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed assets

# npm ci installs exactly package-lock.json and checks each package against its integrity hash.
static/vendor/.installed: package.json package-lock.json scripts/vendor-assets.sh
	npm ci --no-audit --no-fund --loglevel=error
	bash scripts/vendor-assets.sh
	touch $@

assets: static/vendor/.installed

# As scripts/serve migrate runs it in production. On PostgreSQL the database URL's role owns
# the schema and migrates, and the app runs as a role of its own (scripts/demo-db-env).
migrate: install
	export PATH="$(abspath $(VENV))/bin:$$PATH" py="$(PY)" && source scripts/demo-db-env && \
	  DJANGO_SETTINGS_MODULE="$${DJANGO_SETTINGS_MODULE:-ipt_clinic.settings.local}" \
	  MFA_REQUIRED=false scripts/serve migrate

demo: migrate
	MFA_REQUIRED=false $(PY) manage.py seed_demo

run: demo
	MFA_REQUIRED=false bash scripts/run-demo.sh

# The browser journeys (tests/browser) drive Debian's Chromium: installed here with apt-get
# when it is missing and we may (root); otherwise say what to install.
CHROMIUM_PATH ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM_PATH)" ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Chromium for the browser tests (apt-get install chromium chromium-driver)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver >/dev/null; \
	else \
	  echo "The browser tests need Chromium: apt-get install chromium chromium-driver, or set CHROMIUM_PATH"; \
	fi

# The discharge letter's PDF: WeasyPrint needs Pango, and its test looks at the page as an image
# with poppler's pdftoppm. Installed with apt-get when missing and we may (root).
pdf:
	@if command -v pdftoppm >/dev/null && ldconfig -p 2>/dev/null | grep -q libpangoft2; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Pango and poppler for the letters' PDF (apt-get install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 poppler-utils >/dev/null; \
	else \
	  echo "The letters' PDF needs Pango and poppler: apt-get install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils"; \
	fi

# GNU gettext (xgettext, msgfmt) for make messages and for the test that the portal's catalogue
# is up to date with the code (tests/portal/test_language_catalogue.py): installed with apt-get
# when it is missing and we may (root); otherwise say what to install. The app itself reads the
# committed .mo files and needs none of it.
gettext:
	@if command -v msgfmt >/dev/null && command -v xgettext >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing GNU gettext for the portal's translations (apt-get install gettext)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends gettext >/dev/null; \
	else \
	  echo "The portal's translations need GNU gettext: apt-get install gettext"; \
	fi

# The portal's catalogues (locale/<language>/LC_MESSAGES/django.po): every string marked for
# translation in the code and the templates gathered into each language's .po, then compiled
# into the .mo the app reads. Both are committed; translate what the .po leaves empty or fuzzy.
LOCALES ?= es
I18N_IGNORE := --ignore=.venv --ignore=node_modules --ignore=static --ignore=staticfiles \
  --ignore=var --ignore=tests --ignore=bench --ignore=docs
messages: install gettext
	$(PY) manage.py makemessages $(addprefix --locale=,$(LOCALES)) --domain=django \
	  --no-obsolete --add-location=file $(I18N_IGNORE)
	$(PY) manage.py compilemessages $(addprefix --locale=,$(LOCALES)) $(I18N_IGNORE)

# Extra pytest arguments: make test PYTEST_ARGS="-k readyz -x"
test: install browser gettext pdf
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Rewrite requirements.lock and requirements-production.lock (uv pip compile, with hashes)
# after adding a dependency to pyproject.toml; the pins already there are kept.
# make lock UPGRADE=--upgrade (or UPGRADE="--upgrade-package django") takes newer releases.
lock: install
	UPGRADE="$(UPGRADE)" UV=$(abspath $(VENV))/bin/uv bash scripts/lock.sh

# Both lock files are exactly what make lock writes from pyproject.toml (every declared
# dependency pinned, every hash as the index has it); needs the package index.
check-lock: install
	UV=$(abspath $(VENV))/bin/uv bash scripts/lock.sh --check

# bench/results/latest.json, then the README's and bench/README's tables written from it.
bench: install
	$(PY) bench/run.py
	$(PY) bench/report.py

# The load extra (locust) is in requirements.lock, installed by make install.
load: install
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) var node_modules static/vendor staticfiles
