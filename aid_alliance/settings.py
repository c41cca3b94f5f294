"""Settings for aid_alliance, read from environment variables.

Every value comes from the environment through a typed helper that fails loudly on a
value it cannot read. Defaults are safe for a laptop: SQLite in the project folder,
DEBUG off, e-mail to the console. Production values come only from the environment.
"""

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json_object(name: str) -> dict:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a JSON object")
    return value


DEBUG = env_bool("DEBUG", False)
# The test suite runs in production mode (DEBUG off) with a throwaway key and plain HTTP.
# Only the test configuration sets AID_TEST_MODE (tests/pytest_test_mode.py): importing
# pytest must not be enough, or any production process that loads it would start keyless.
RUNNING_TESTS = env_bool("AID_TEST_MODE", False)

_INSECURE_DEV_KEY = "django-insecure-only-for-debug-on-a-laptop"
# The key comes from SECRET_KEY, else from the file `make run` generates on a laptop
# (SECRET_KEY_FILE, default .secret_key in the project folder, ignored by git).
_KEY_FILE = Path(env_str("SECRET_KEY_FILE") or BASE_DIR / ".secret_key")
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY and _KEY_FILE.is_file():
    SECRET_KEY = _KEY_FILE.read_text(encoding="utf-8").strip()
if not SECRET_KEY:
    if not DEBUG and not RUNNING_TESTS:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production mode (DEBUG off) needs a real secret key; "
            "`make run` generates one in .secret_key for local use."
        )
    SECRET_KEY = _INSECURE_DEV_KEY
elif len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure"):
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is too weak: use at least 32 random characters.")
# The access record's chain (cases.audit) is keyed: its own key lets SECRET_KEY rotate
# without breaking the verification of records sealed before.
ACCESS_CHAIN_KEY = env_str("ACCESS_CHAIN_KEY") or SECRET_KEY
# Each seal that advances the chain appends its end (place, hash, time) to this file, out of
# the database's reach: verify_access_records then finds an end cut off with the head moved
# back, or a chain emptied and reset. One file per installation, on the host that seals (the
# worker's, deploy/aid-alliance-sealer.service). A test run gets a folder of its own.
if RUNNING_TESTS and not env_str("ACCESS_CHECKPOINT_FILE"):
    os.environ["ACCESS_CHECKPOINT_FILE"] = str(
        Path(tempfile.mkdtemp(prefix="aid-alliance-test-var-")) / "access-checkpoints.jsonl"
    )
ACCESS_CHECKPOINT_FILE = Path(
    env_str("ACCESS_CHECKPOINT_FILE") or BASE_DIR / "var" / "access-checkpoints.jsonl"
)
# Records waiting longer than this to be sealed fail verify_access_records: the sealer is
# not running.
ACCESS_UNSEALED_MAX_SECONDS = env_int("ACCESS_UNSEALED_MAX_SECONDS", 300)
if ACCESS_UNSEALED_MAX_SECONDS < 1:
    raise ImproperlyConfigured(
        f"ACCESS_UNSEALED_MAX_SECONDS={ACCESS_UNSEALED_MAX_SECONDS} must be at least 1 (seconds)"
    )


# ID and bank account numbers are encrypted in the database (cases.crypto). Each key is 32
# random bytes in base64; FIELD_ENCRYPTION_KEY is one key or a comma-separated list, the
# first encrypts and all decrypt (rotation). FIELD_HASH_KEY keys the search hashes of
# those numbers. Like SECRET_KEY, each is read from the environment, else from a file that
# `make run` generates (ignored by git); only a laptop (DEBUG) or the test suite may derive
# them from SECRET_KEY instead.
def _field_key(name: str, default_file: str) -> str:
    value = env_str(name) or ""
    path = Path(env_str(f"{name}_FILE") or BASE_DIR / default_file)
    if not value and path.is_file():
        value = path.read_text(encoding="utf-8").strip()
    if value:
        return value
    if not DEBUG and not RUNNING_TESTS:
        raise ImproperlyConfigured(
            f"{name} is not set. Production mode (DEBUG off) needs it to keep ID and bank "
            f"account numbers encrypted: `make run` generates one in {default_file} for "
            "local use; keep it apart from the database and its backups."
        )
    derived = hashlib.sha256(f"aid_alliance.{name}|{SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(derived).decode()


FIELD_ENCRYPTION_KEYS = [
    item.strip()
    for item in _field_key("FIELD_ENCRYPTION_KEY", ".field_encryption_key").split(",")
    if item.strip()
]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        _valid = len(base64.b64decode(_key + "=" * (-len(_key) % 4), altchars="-_")) == 32
    except ValueError:
        _valid = False
    if not _valid:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY: each key must be 32 random bytes in URL-safe base64, e.g. "
            'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)))"'
        )
FIELD_HASH_KEY = _field_key("FIELD_HASH_KEY", ".field_hash_key")
if len(FIELD_HASH_KEY) < 32 or "change-me" in FIELD_HASH_KEY:
    # ID numbers have little entropy: with a known key their hashes give them away.
    raise ImproperlyConfigured("FIELD_HASH_KEY is too weak: use at least 32 random characters.")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", *(["testserver"] if RUNNING_TESTS else [])]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # The second factor for staff (organizations/second_factor.py): TOTP from an
    # authenticator app, through django-otp rather than home-made crypto.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks_db",
    "organizations",
    "cases",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "aid_alliance.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "organizations.second_factor.VerifiedDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "aid_alliance.middleware.IdleSessionMiddleware",
    "organizations.second_factor.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "aid_alliance.urls"
# `make bench` (scripts/bench_scale.py) serves a bare view at /bench/bare/ to compare pages with.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", False)
WSGI_APPLICATION = "aid_alliance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "aid_alliance.context_processors.navigation",
            ],
            # {% fixed_url %} for the layout's links (aid_alliance/nav_tags.py); kept_i18n: Django's
            # i18n with {% translate %}'s fixed texts kept per language (aid_alliance/i18n_tags.py).
            "libraries": {"nav": "aid_alliance.nav_tags", "kept_i18n": "aid_alliance.i18n_tags"},
            # {% field form.name %}: templates/_field.html in Python (aid_alliance/field_tags.py).
            "builtins": ["aid_alliance.field_tags"],
        },
    },
]

# Forms' widgets (inputs, radios, checkboxes, selects) rendered in Python with the same HTML
# as Django's templates: most of the edit page's time was spent in them (issue 18).
FORM_RENDERER = "aid_alliance.widgets.PythonWidgetRenderer"

# SQLite in the project folder is the embedded default; DATABASE_URL=postgres://… selects
# PostgreSQL (production and CI).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Tests close connections at once, so the live server's thread does not keep the
        # test database open when it is dropped.
        conn_max_age=0 if RUNNING_TESTS else env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# PostgreSQL through psycopg 3 with server-side binding: the parameters travel apart from
# the statement, so psycopg prepares a statement the connection has run five times and
# PostgreSQL stops parsing and planning it anew on every request (issue 18: a page's
# joins cost more to plan than to run; Django leaves it off for the sake of connection
# poolers, and none is between the app and PostgreSQL here). DB_PREPARED_STATEMENTS=false:
# Django's default, client-side binding and no prepared statement.
PG_OPTIONS = (
    {"server_side_binding": True, "prepare_threshold": 5}
    if env_bool("DB_PREPARED_STATEMENTS", True)
    else {}
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **PG_OPTIONS}
# A streaming replica of the primary (deploy/README section): the reports' read-only figures
# and exports read from it (aid_alliance/routing.py); every write, and every other read, goes
# to the primary. Tests treat it as the primary itself (TEST MIRROR).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(
            env_str("DATABASE_REPLICA_URL"),
            conn_max_age=0 if RUNNING_TESTS else env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        ),
        "TEST": {"MIRROR": "default"},
    }
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["OPTIONS"] = {**DATABASES["replica"].get("OPTIONS", {}), **PG_OPTIONS}
DATABASE_ROUTERS = ["aid_alliance.routing.ReportReplicaRouter"]

AUTH_USER_MODEL = "organizations.User"
# ModelBackend, with the user's member read in the user's query: one query less per page.
AUTHENTICATION_BACKENDS = ["organizations.auth_backends.UserWithMemberBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Sessions are rows in the database, so any app server can serve any request of a session.
# Redis (redis://host:6379/0), when set: Django's cache (CACHES, below), sessions, users and the
# directory's generation.
REDIS_URL = env_str("REDIS_URL") or ""
# With Redis they are read from it and written through to the database
# (cached_db): a Redis that is lost or emptied loses no session. The user, their member and
# their second-factor device are read from it too (organizations.auth_backends: exact, each
# change counts from the next request). Both save a database round trip on every request.
SESSION_ENGINE = (
    "aid_alliance.session_store"  # cached_db, read with what the request reads next
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
AUTH_USER_CACHE = bool(REDIS_URL)
# The directory API's version: a generation in the (Redis) cache that every save of the
# directory replaces, instead of a fingerprint query per request (organizations.directory_cache).
DIRECTORY_GENERATION = bool(REDIS_URL)
# Staff sessions (standard.md §5): signed out after SESSION_IDLE_SECONDS without a request
# (aid_alliance.middleware.IdleSessionMiddleware), and after SESSION_COOKIE_AGE in any case.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
# Login lockout (organizations.ratelimit): this many failures per user name or per client
# address within LOGIN_LOCKOUT_SECONDS pause logging in for them, across app servers.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 6)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 30 * 60)
# Password reset e-mails (the same limiter): this many requests per client address and per
# e-mail address typed within the window, then HTTP 429 and no e-mail.
PASSWORD_RESET_MAX_REQUESTS = env_int("PASSWORD_RESET_MAX_REQUESTS", 5)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
if (
    min(LOGIN_MAX_FAILURES, LOGIN_LOCKOUT_SECONDS) < 1
    or min(PASSWORD_RESET_MAX_REQUESTS, PASSWORD_RESET_WINDOW_SECONDS) < 1
):
    raise ImproperlyConfigured(
        "LOGIN_MAX_FAILURES, LOGIN_LOCKOUT_SECONDS, PASSWORD_RESET_MAX_REQUESTS and "
        "PASSWORD_RESET_WINDOW_SECONDS must be at least 1"
    )
# Second factor (organizations.second_factor): a TOTP code from an authenticator app after
# the password, for these roles and for every administrator (superuser or admin access),
# on the pages, the API with a session, downloads, exports and the admin alike. Caseworkers
# may enrol (and are then asked for the code too) but are not required to: add
# "caseworker" to require it of them. Reviewers and the secretariat cannot be left out.
# Wrong codes count toward the login lockout above.
# API tokens (Authorization: Token …, organizations.tokens) do not ask for a code: a token
# is a long random secret made by its user at /accounts/tokens/ (after the code) or by an
# administrator with `manage.py create_api_token`, for a member's system, which has no
# authenticator app to read. A browser session on the API needs the code like any page.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", ["reviewer", "secretariat"])
if (
    not {"reviewer", "secretariat"}
    <= set(OTP_REQUIRED_ROLES)
    <= {
        "caseworker",
        "reviewer",
        "secretariat",
    }
):
    raise ImproperlyConfigured(
        f"OTP_REQUIRED_ROLES={OTP_REQUIRED_ROLES!r} must name reviewer and secretariat, "
        "and may add caseworker"
    )
# API tokens expire this many days after they are made (a new one is made to rotate).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
if API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured(f"API_TOKEN_DAYS={API_TOKEN_DAYS} must be at least 1 (days)")
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER") or "儿童大病救助联盟"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Simplified Chinese first; English one click away (the language cookie decides, not the
# browser's Accept-Language: see aid_alliance/middleware.py).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "aid_alliance.storage.KeptURLStaticStorage"  # whitenoise's, addresses kept
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# Applicants' documents and report files: never under STATIC_ROOT or MEDIA_ROOT, served only
# by a view. With several app servers and a worker, PRIVATE_MEDIA_ROOT is one shared mount
# (NFS, CephFS …), or PRIVATE_STORAGE_BACKEND names another storage class (e.g.
# storages.backends.s3.S3Storage from django-storages, not installed here) with its
# PRIVATE_STORAGE_OPTIONS as a JSON object.
if RUNNING_TESTS and not env_str("PRIVATE_MEDIA_ROOT"):
    # A test run writes its uploads into a folder of its own, not among a laptop's real
    # ones; set in the environment too, so a worker process a test starts uses the same.
    os.environ["PRIVATE_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="aid-alliance-test-media-")
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT") or BASE_DIR / "private-media")
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
# Retention (PIPL art. 19): `manage.py anonymise_closed` anonymises applications closed or
# withdrawn longer ago than this, acting as RETENTION_ACTOR (a secretariat user's name) in
# the applications' history.
RETENTION_DAYS = env_int("RETENTION_DAYS", 5 * 365)
if RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"RETENTION_DAYS={RETENTION_DAYS} must be at least 1 (days)")
RETENTION_ACTOR = env_str("RETENTION_ACTOR", "") or ""
STORAGES["private"] = {
    "BACKEND": env_str("PRIVATE_STORAGE_BACKEND") or "django.core.files.storage.FileSystemStorage",
    "OPTIONS": env_json_object("PRIVATE_STORAGE_OPTIONS")
    if env_str("PRIVATE_STORAGE_BACKEND")
    else {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
}

# Background work through Django's tasks framework (reports for long periods, reports/tasks.py).
# "immediate" runs a task at once, inside the request that enqueued it: nothing else to run.
# "database" (production) queues tasks in the database (django-tasks-db); workers started
# with `python manage.py db_worker` on any number of machines claim them with
# SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL.
_TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND = env_str("TASKS_BACKEND") or "immediate"
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND={TASKS_BACKEND!r} is not one of: {', '.join(_TASK_BACKENDS)}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
# Uploads above this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# E-mail (Django 6.1 MAILERS): the console unless an SMTP host is given.
EMAIL_HOST = env_str("EMAIL_HOST") or ""
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": env_int("EMAIL_TIMEOUT", 10),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST
# Texts to families (standard.md §3): a class with send(phone=, text=); SMS in production.
FAMILY_NOTIFIER = env_str("FAMILY_NOTIFIER") or "cases.notify.LoggingNotifier"

# The family status page (/status/, standard.md §3 and §5). Failed lookups are counted in
# the database, per client address and per reference, so the limit holds across app servers.
FAMILY_STATUS_MAX_FAILURES = env_int("FAMILY_STATUS_MAX_FAILURES", 5)
FAMILY_STATUS_WINDOW_SECONDS = env_int("FAMILY_STATUS_WINDOW_SECONDS", 15 * 60)
# How long the page stays open after the details were checked; then they are asked again.
FAMILY_STATUS_VIEW_SECONDS = env_int("FAMILY_STATUS_VIEW_SECONDS", 10 * 60)
# A second factor: a one-time code texted to the guardian's phone through FAMILY_NOTIFIER.
FAMILY_STATUS_ONE_TIME_CODE = env_bool("FAMILY_STATUS_ONE_TIME_CODE", False)
# Reverse proxies in front of the app that each append to X-Forwarded-For. 0: the client
# address is REMOTE_ADDR and X-Forwarded-For is ignored (anyone can write that header).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if (
    min(FAMILY_STATUS_MAX_FAILURES, FAMILY_STATUS_WINDOW_SECONDS, FAMILY_STATUS_VIEW_SECONDS) < 1
    or TRUSTED_PROXY_COUNT < 0
):
    raise ImproperlyConfigured(
        "FAMILY_STATUS_MAX_FAILURES, FAMILY_STATUS_WINDOW_SECONDS and FAMILY_STATUS_VIEW_SECONDS "
        "must be at least 1; TRUSTED_PROXY_COUNT at least 0"
    )

# The site's address as families type it: every text to a family names the status page
# (SITE_URL + /status/), so a message always carries the way back (issue 17).
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must start with https:// or http://")
# Documents a family sends from the status page (standard.md §3): at most this many per
# application and per client address in the window (a day), then HTTP 429.
FAMILY_UPLOAD_MAX_PER_DAY = env_int("FAMILY_UPLOAD_MAX_PER_DAY", 20)
FAMILY_UPLOAD_WINDOW_SECONDS = env_int("FAMILY_UPLOAD_WINDOW_SECONDS", 24 * 3600)
# Call-back requests from the pre-check, with no account: at most this many per client
# address and per phone number in the window, then HTTP 429.
LEAD_MAX_REQUESTS = env_int("LEAD_MAX_REQUESTS", 5)
LEAD_WINDOW_SECONDS = env_int("LEAD_WINDOW_SECONDS", 24 * 3600)
# A call-back request's name, phone and note are cleared this long after its last change
# (`manage.py anonymise_closed`); an application opened from it has its own retention.
LEAD_RETENTION_DAYS = env_int("LEAD_RETENTION_DAYS", 365)
if (
    min(
        FAMILY_UPLOAD_MAX_PER_DAY,
        FAMILY_UPLOAD_WINDOW_SECONDS,
        LEAD_MAX_REQUESTS,
        LEAD_WINDOW_SECONDS,
        LEAD_RETENTION_DAYS,
    )
    < 1
):
    raise ImproperlyConfigured(
        "FAMILY_UPLOAD_MAX_PER_DAY, FAMILY_UPLOAD_WINDOW_SECONDS, LEAD_MAX_REQUESTS, "
        "LEAD_WINDOW_SECONDS and LEAD_RETENTION_DAYS must be at least 1"
    )

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@aid-alliance.local")

# HTTPS hardening is on by default in production mode; `make run` serves plain HTTP on
# 127.0.0.1 and turns it off with HTTPS=false.
HTTPS = env_bool("HTTPS", not DEBUG and not RUNNING_TESTS)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Django's cache holds the API's request counters (throttling). In the database, so that the
# limits hold across every app server without another service to run; the table is made by
# `manage.py createcachetable` (`make run`; the test database makes its own). REDIS_URL
# (above) moves it to Redis, shared the same way and lighter on the database.
CACHES = {
    "default": (
        # Django's RedisCache, without a new client per call (aid_alliance/cache.py).
        {"BACKEND": "aid_alliance.cache.ReusedClientRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "aid_alliance_cache",
        }
    )
    # Several installations on one Redis keep apart by their prefix.
    | {"KEY_PREFIX": env_str("CACHE_KEY_PREFIX") or ""}
}


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as "1200/minute" (requests per second, minute, hour or day)."""
    raw = (env_str(name) or default).strip()
    count, _slash, period = raw.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 1200/minute")
    return raw


REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Member systems send "Authorization: Token …" (first, so that a request without
    # credentials gets a 401 with WWW-Authenticate); the browser uses its session, with CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organizations.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON nested deeper than any request needs is a 400 before it is decoded (issue 14).
    "DEFAULT_PARSER_CLASSES": [
        "aid_alliance.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # 429 past these rates: per client address without an account, per user with one.
    "DEFAULT_THROTTLE_CLASSES": ["aid_alliance.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "120/minute"),
        "user": env_rate("API_THROTTLE_USER", "1200/minute"),
    },
    # The client address of an anonymous request: X-Forwarded-For only behind trusted
    # proxies (DRF would otherwise believe whatever address a client writes there).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "儿童大病救助联盟 aid_alliance API",
    "DESCRIPTION": _(
        "The alliance's case system. The directory and eligibility pre-check are public. "
        "Member systems authenticate with a token (Authorization: Token …), the browser with "
        "its session. Every refusal has one JSON shape: a detail, and errors naming each "
        "field with its code in the unified standard."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request and response bodies as separate components: uploads and read-only fields
    # are then described exactly.
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags and operation ids from the path after /api/v1/: "applications", "reviews" …
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name per choice set used by several fields.
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "cases.models.Application.Status",
        "ClosingReasonEnum": "cases.models.Application.ClosingReason",
        "DocumentStatusEnum": "cases.models.Document.Status",
        "DocumentTypeEnum": "cases.models.Document.Type",
        "RelationshipEnum": "cases.models.Guardian.Relationship",
        "OtherAidKindEnum": "cases.models.OtherAid.Kind",
        "ReviewStateEnum": "cases.models.MemberReview.State",
        "DeclineReasonEnum": "cases.models.MemberReview.DeclineReason",
        "ReceiptKindEnum": "cases.models.Receipt.Kind",
        "EconomicFlagEnum": "organizations.eligibility.ECONOMIC_FLAGS",
        "TreatmentStageEnum": "organizations.eligibility.STAGES",
        "MemberKindEnum": "organizations.models.MemberOrganization.Kind",
        "ProjectKindEnum": "organizations.models.AidProject.Kind",
        "HsdsServiceStatusEnum": "organizations.hsds.SERVICE_STATUSES",
        "HospitalDocumentTypeEnum": "cases.hospital.forms.HOSPITAL_UPLOAD_CHOICES",
        "HospitalPlanStageEnum": "cases.hospital.forms.PLAN_STAGE_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    # pypdf warns of every repair it makes while the upload check reads a sloppy PDF
    # (cases/documents.py); a refusal is what matters, and it is the user's message.
    "loggers": {"pypdf": {"level": "ERROR"}},
}
