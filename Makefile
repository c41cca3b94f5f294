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

export DJANGO_SETTINGS_MODULE := aid_alliance.settings

.PHONY: run test lint bench-deps os-run os-test venv deps deps-dev node clean-venv

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
staticfiles/staticfiles.json: $(STATIC_SOURCES) $(STAMP)/deps | .secret_key
	DEBUG=false $(PY) manage.py collectstatic --noinput -v0
	@touch $@

.secret_key: | $(PY)
	@$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key
	@chmod 600 .secret_key

# --- the two commands ---------------------------------------------------------------

run: os-run $(STAMP)/deps .secret_key staticfiles/staticfiles.json
	@set -e; export DEBUG=false HTTPS=false; \
	$(PY) manage.py migrate --noinput -v0; \
	$(PY) manage.py createcachetable; \
	$(PY) manage.py compilemessages -v0 --ignore='.venv/*' --ignore='node_modules/*'; \
	$(PY) manage.py load_demo --i-know-this-is-demo; \
	echo ""; \
	echo "aid_alliance: http://127.0.0.1:$(PORT)/"; \
	echo "Demo logins (password: demo-password): secretariat, admin, m1-caseworker, m1-reviewer ... m8-caseworker, m8-reviewer"; \
	echo ""; \
	exec $(VENV)/bin/gunicorn aid_alliance.wsgi --bind 127.0.0.1:$(PORT) --workers 3 --access-logfile -

test: os-test $(STAMP)/deps-dev node_modules/axe-core/axe.min.js .secret_key staticfiles/staticfiles.json
	@set -e; export DJANGO_ALLOW_ASYNC_UNSAFE=true; \
	$(PY) manage.py compilemessages -v0 --ignore='.venv/*' --ignore='node_modules/*'; \
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)/deps-dev .secret_key
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

clean-venv:
	rm -rf $(VENV)
