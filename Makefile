# aid_alliance: `make run` serves the app with demo data; `make test` runs the whole suite.
# Both provision what is missing on a fresh Debian machine (as root) and are quick when
# everything is already in place.

PYTHON_VERSION := 3.12
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
APT_RUN := libharfbuzz-subset0 fonts-noto-cjk gettext
APT_TEST := $(APT_RUN) chromium poppler-utils postgresql-client
# Stamps: redo a step only when what it depends on changed.
STAMP := $(VENV)/.stamps
FIELD_KEYS := .field_encryption_key .field_hash_key

export DJANGO_SETTINGS_MODULE := aid_alliance.settings

.PHONY: run test lint audit bench bench-deps os-run os-test venv deps deps-dev node clean-venv

# --- provisioning -----------------------------------------------------------------

os-run:
	@bash scripts/apt-ensure.sh $(APT_RUN)

os-test:
	@bash scripts/apt-ensure.sh $(APT_TEST)

$(PY):
	@bash scripts/python-ensure.sh $(PYTHON_VERSION) $(VENV)

$(STAMP)/deps: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/deps-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@mkdir -p $(STAMP) && touch $@ $(STAMP)/deps

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Collect (and compress) static files only when a source or a package changed: whitenoise
# compresses every file on each run, about 20 s.
STATIC_SOURCES := $(shell find static -type f 2>/dev/null)
staticfiles/staticfiles.json: $(STATIC_SOURCES) $(STAMP)/deps | .secret_key $(FIELD_KEYS)
	DEBUG=false $(PY) manage.py collectstatic --noinput -v0
	@touch $@

.secret_key: | $(PY)
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key
	@chmod 600 .secret_key

# The keys of the encrypted ID and bank account numbers (cases/crypto.py), generated once:
# losing .field_encryption_key loses those numbers, so back it up apart from the database.
$(FIELD_KEYS): | $(PY)
	@$(PY) -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())" > $@
	@chmod 600 $@

# --- the two commands ---------------------------------------------------------------

# `make run` serves with deploy/gunicorn.conf.py, whose master also runs the access record's
# sealer (seal_access_records --loop 30) and stops it with itself: no cron line to add.

run: os-run $(STAMP)/deps .secret_key $(FIELD_KEYS) staticfiles/staticfiles.json
	@set -e; export DEBUG=false HTTPS=false GUNICORN_ACCESS_SEAL_SECONDS=30; \
	$(PY) manage.py migrate --noinput -v0; \
	$(PY) manage.py createcachetable; \
	$(PY) manage.py compilemessages -v0 --ignore='.venv/*' --ignore='node_modules/*'; \
	$(PY) manage.py load_demo --i-know-this-is-demo; \
	echo ""; \
	echo "aid_alliance: http://127.0.0.1:$(PORT)/"; \
	echo "Demo logins (password: demo-password): secretariat, admin, m1-caseworker, m1-reviewer ... m8-caseworker, m8-reviewer"; \
	echo "Reviewers, secretariat and admin also enter a 6-digit code: authenticator-app key AIDALLIANCEDEMOAAIDALLIANCEDEMOA, or run: $(PY) manage.py demo_otp_code"; \
	echo ""; \
	exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py \
		aid_alliance.wsgi --bind 127.0.0.1:$(PORT) --workers 3 --access-logfile -

test: os-test $(STAMP)/deps-dev node_modules/axe-core/axe.min.js .secret_key $(FIELD_KEYS) staticfiles/staticfiles.json
	@set -e; export DJANGO_ALLOW_ASYNC_UNSAFE=true; \
	$(PY) manage.py compilemessages -v0 --ignore='.venv/*' --ignore='node_modules/*'; \
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)/deps-dev .secret_key $(FIELD_KEYS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-logo

# Known vulnerabilities of what is installed in the venv: the pinned dependencies of both
# requirements files and what they pull in (pip-audit, with PyPI's advisory data; needs the
# network; auditing the venv instead of -r files saves resolving everything again): a
# finding fails. A package the advisory service
# cannot answer for is listed as skipped; PIP_AUDIT_ARGS=--strict fails on that too.
PIP_AUDIT_ARGS ?=
audit: $(STAMP)/deps-dev
	$(VENV)/bin/pip-audit --progress-spinner off --local --skip-editable $(PIP_AUDIT_ARGS)

# Not part of `make test`: a million applications in PostgreSQL (aid_alliance_bench, made
# or reused), the app under gunicorn and wrk from a second process; the table goes to
# bench-results/scale.txt (scripts/bench_scale.py says what it measures).
APT_BENCH := $(APT_RUN) wrk postgresql-client
BENCH_ARGS ?=
bench: $(STAMP)/deps .secret_key $(FIELD_KEYS) staticfiles/staticfiles.json
	@bash scripts/apt-ensure.sh $(APT_BENCH)
	@set -e; $(PY) manage.py compilemessages -v0 --ignore='.venv/*' --ignore='node_modules/*'; \
	$(PY) scripts/bench_scale.py $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
