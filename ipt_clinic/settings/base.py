"""Settings shared by every environment. Every value comes from the environment.

A bad value stops start-up with a message naming the variable (see ``_env``).
"""

from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from ipt_clinic.phones import phone_problem
from ipt_clinic.quiet_hours import parse_quiet_hours, quiet_hours_problem

from .email_url import mailers_from_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _env(kind, name, **kwargs):
    """Read one variable; turn a parse error into a clear start-up failure."""
    try:
        return getattr(env, kind)(name, **kwargs)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {exc}") from exc


def _positive_int(name: str, default: int) -> int:
    value = _env("int", name, default=default)
    if value <= 0:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a positive integer, got {value}"
        )
    return value


def _seconds(name: str, default: int) -> int:
    """A time limit in whole seconds; 0 for none."""
    value = _env("int", name, default=default)
    if value < 0:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be 0 (no limit) or more seconds, got {value}"
        )
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, default: bool) -> bool:
    """Strict: ``MFA_REQUIRED=maybe`` stops start-up instead of quietly meaning False."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name} must be true or false (1/0, yes/no, on/off), got {raw!r}"
    )


SECRET_KEY = _env("str", "SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = _bool("DEBUG", default=False)
ALLOWED_HOSTS = _env("list", "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = _env("list", "CSRF_TRUSTED_ORIGINS", default=[])

TIME_ZONE = _env("str", "TIME_ZONE", default="Europe/London")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"Environment variable TIME_ZONE is not a known time zone: {TIME_ZONE!r}"
    ) from exc
USE_TZ = True
LANGUAGE_CODE = "en-gb"
USE_I18N = True
# Staff pages are in the clinic's language (LANGUAGE_CODE); only the patient portal follows
# the patient (their record's language, patients.Language) or, before a link is exchanged, the
# browser's Accept-Language among these. The portal's catalogues are in locale/ (make messages).
LANGUAGES = [("en-gb", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# A covering index (sessions.AttendanceWeek) has INCLUDE columns that SQLite leaves out: the
# index still serves the query there, reading the table for those columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "ipt_clinic.accounts",
    "ipt_clinic.audit",
    "ipt_clinic.submissions",
    "notifications",
    "patients",
    "phases",
    "sessions.apps.TherapyConfig",
    "letters",
    "portal",
    "caseload",
    "interop",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.PortalHeadersMiddleware",
    "portal.middleware.PortalOriginMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Around the staff session's own middleware below, so that their redirects are covered.
    "ipt_clinic.private_pages.PrivatePagesMiddleware",
    "ipt_clinic.accounts.middleware.StaffOTPMiddleware",
    "ipt_clinic.accounts.middleware.SessionTimeoutMiddleware",
    "ipt_clinic.accounts.middleware.MFARequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so its process_exception sees a view's refusal first: it audits and passes it on.
    "patients.middleware.RefusalAuditMiddleware",
]

ROOT_URLCONF = "ipt_clinic.urls"
WSGI_APPLICATION = "ipt_clinic.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["ipt_clinic.accounts.backends.ClinicModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
            # {% load formfields %}: crispy's bootstrap5 field markup rendered in Python.
            "libraries": {"formfields": "ipt_clinic.formfields"},
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": _env(
        "db_url", "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ipt_clinic.sqlite3'}"
    ),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", _env("int", "CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process and the Celery worker share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Django's backend with time limits on every wait for the server (ipt_clinic/postgresql).
    DATABASES["default"]["ENGINE"] = "ipt_clinic.postgresql"
    # A server that accepts connections but never answers must not hang requests or /readyz.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", _env("int", "DATABASE_CONNECT_TIMEOUT", default=3))
    # What PostgreSQL stops by itself (0: the server's own setting). manage.py commands other
    # than runserver run without them (migrations, the demo seed: see manage.py).
    _statement = options["statement_timeout"] = _seconds("DATABASE_STATEMENT_TIMEOUT", 5)
    options["lock_timeout"] = _seconds("DATABASE_LOCK_TIMEOUT", 3)
    options["idle_in_transaction_timeout"] = _seconds("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", 60)
    # How long the app waits for any answer before it gives the connection up: a frozen
    # server enforces none of the above. A second past the statement limit, so that a slow
    # statement is stopped by the server (keeping the connection) before the client gives up.
    options["client_timeout"] = _seconds(
        "DATABASE_CLIENT_TIMEOUT", _statement + 1 if _statement else 0
    )
    # Parameters sent apart from the SQL text, and a statement run this many times on one
    # connection prepared on the server: the pages repeat the same few dozen queries, and
    # PostgreSQL then skips parsing and planning them (about 10-20% of a page's time).
    if _bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", _positive_int("DATABASE_PREPARE_THRESHOLD", 5))
    else:
        # Behind a pooler in transaction mode the next statement may run on another server
        # connection, which has never heard of a statement prepared on this one: nothing is
        # prepared, whatever the URL's own options say (code that prepares by hand asks
        # ipt_clinic.rows.prepares_statements() first).
        options["server_side_binding"] = False
        options["prepare_threshold"] = None
# Two roles on PostgreSQL (README, "Two database roles"): DATABASE_URL is the app's, a role that
# owns nothing; MIGRATE_DATABASE_URL the owner of the schema's, given only to the process that
# migrates (scripts/serve migrate), and the "owner" database of manage.py db_roles, which sets
# the app's role up.
if _env("str", "MIGRATE_DATABASE_URL", default=""):
    _owner = _env("db_url", "MIGRATE_DATABASE_URL")
    _app = DATABASES["default"]
    if not (_app["ENGINE"] == "ipt_clinic.postgresql" and _owner["ENGINE"].endswith("postgresql")):
        raise ImproperlyConfigured(
            "MIGRATE_DATABASE_URL is for PostgreSQL: DATABASE_URL and it must both be postgres://"
        )
    if (_owner["NAME"], _owner["HOST"], str(_owner["PORT"] or 5432)) != (
        _app["NAME"],
        _app["HOST"],
        str(_app["PORT"] or 5432),
    ):
        raise ImproperlyConfigured(
            "MIGRATE_DATABASE_URL must name the same database (host, port, name) as DATABASE_URL"
        )
    if _owner["USER"] == _app["USER"]:
        raise ImproperlyConfigured(
            "MIGRATE_DATABASE_URL and DATABASE_URL name the same role: the app needs its own"
        )
    DATABASES["owner"] = {
        **_app,
        "USER": _owner["USER"],
        "PASSWORD": _owner["PASSWORD"],
        # The app's options (time limits, statement preparing), and any the owner's URL adds.
        "OPTIONS": _app["OPTIONS"] | _owner.setdefault("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _env("str", "REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ipt",
            # The cache holds only the throttles' counters, which fall back to the database
            # when it fails: a Redis that stopped answering costs a request one second per
            # call (redis-py's own default is five), not a hang.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

SESSION_ENGINE = "ipt_clinic.accounts.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Staff sessions: idle and absolute limits, in minutes (enforced by SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=_positive_int("SESSION_IDLE_MINUTES", 15))
SESSION_ABSOLUTE_TIMEOUT = timedelta(minutes=_positive_int("SESSION_ABSOLUTE_MINUTES", 12 * 60))
if SESSION_IDLE_TIMEOUT > SESSION_ABSOLUTE_TIMEOUT:
    raise ImproperlyConfigured(
        "SESSION_IDLE_MINUTES must not be longer than SESSION_ABSOLUTE_MINUTES "
        f"({SESSION_IDLE_TIMEOUT} > {SESSION_ABSOLUTE_TIMEOUT})"
    )
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
# The last-seen time behind the idle limit is saved at most this often (each save is an
# UPDATE and a COMMIT of the session row): a staff member is logged out between
# SESSION_IDLE_TIMEOUT minus this interval and SESSION_IDLE_TIMEOUT after their last request.
# 60 seconds, or a fifteenth of a short idle limit.
SESSION_LAST_SEEN_INTERVAL = min(timedelta(seconds=60), SESSION_IDLE_TIMEOUT / 15)

MFA_REQUIRED = _bool("MFA_REQUIRED", default=True)
OTP_TOTP_ISSUER = "IPT Clinic"
# Staff invitations (password-setting links) stay valid this long.
PASSWORD_RESET_TIMEOUT = _positive_int("STAFF_INVITE_DAYS", 7) * 24 * 3600
# A "forgot password" link stays valid this long from the moment its mail is sent.
STAFF_PASSWORD_RESET_MINUTES = _positive_int("STAFF_PASSWORD_RESET_MINUTES", 60)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR).
# The client's address (throttles, the audit trail) is taken this many hops back
# (ipt_clinic.client_address).
TRUSTED_PROXY_COUNT = _env("int", "TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("Environment variable TRUSTED_PROXY_COUNT must be 0 or more")
# Login throttling (ipt_clinic.accounts.throttle): failures for one account from one address,
# from one address for any accounts (both per window), and for one account from everywhere
# per hour (the ceiling, which spares the addresses the account logs in from).
LOGIN_THROTTLE_PER_ACCOUNT = _positive_int("LOGIN_THROTTLE_PER_ACCOUNT", 5)
LOGIN_THROTTLE_PER_ADDRESS = _positive_int("LOGIN_THROTTLE_PER_ADDRESS", 20)
LOGIN_THROTTLE_WINDOW_SECONDS = _positive_int("LOGIN_THROTTLE_WINDOW_SECONDS", 300)
LOGIN_THROTTLE_ACCOUNT_PER_HOUR = _positive_int("LOGIN_THROTTLE_ACCOUNT_PER_HOUR", 100)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Django 6.1 mailers (EMAIL_BACKEND / EMAIL_HOST... are deprecated): built from one URL.
MAILERS = mailers_from_url(_env("str", "EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = _env("str", "DEFAULT_FROM_EMAIL", default="Clinic <no-reply@clinic.invalid>")
SMS_BACKEND = _env("str", "SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
SITE_URL = _env("str", "SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
PORTAL_LINK_DAYS_AFTER_COURSE = _positive_int("PORTAL_LINK_DAYS_AFTER_COURSE", 30)
PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE = _positive_int("PORTAL_BAD_TOKEN_LIMIT_PER_MINUTE", 20)
# "Lost your link?" (portal/lost_link.py): requests per client address per hour, new links
# per patient per 24 hours, and the least time its answer takes (the same whether or not the
# address typed is on file, so that the time tells nothing either).
PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR = _positive_int("PORTAL_LOST_LINK_PER_ADDRESS_PER_HOUR", 10)
PORTAL_LOST_LINK_PER_PATIENT_PER_DAY = _positive_int("PORTAL_LOST_LINK_PER_PATIENT_PER_DAY", 3)
PORTAL_LOST_LINK_ANSWER_MS = _positive_int("PORTAL_LOST_LINK_ANSWER_MS", 800)
# The country calling code of phone numbers written without one (07700 900123 is
# +44 7700 900123): "Lost your link?" compares numbers written either way.
PHONE_COUNTRY_CODE = _env("str", "PHONE_COUNTRY_CODE", default="44").strip().lstrip("+")
if not (PHONE_COUNTRY_CODE.isdigit() and 1 <= len(PHONE_COUNTRY_CODE) <= 3):
    raise ImproperlyConfigured(
        f"Environment variable PHONE_COUNTRY_CODE must be 1 to 3 digits, got {PHONE_COUNTRY_CODE!r}"
    )


def _phone(name: str, default: str) -> str:
    """A number to dial (empty for none), checked as the clinic settings page checks it."""
    value = _env("str", name, default=default).strip()
    problem = phone_problem(value) if value else None
    if problem:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {problem}")
    return value


def _quiet_hours(name: str, default: str) -> tuple[time, time]:
    try:
        start, end = parse_quiet_hours(_env("str", name, default=default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {exc}") from exc
    problem = quiet_hours_problem(start, end)
    if problem:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {problem}")
    return start, end


# Each clinic's own settings (its admin's Settings page: Clinic in ipt_clinic/accounts) start
# from these when the clinic is made (TIME_ZONE above is its time zone); a clinic that leaves
# its emergency number or crisis line blank gives patients these. What a patient who answers
# PHQ-9 item 9 above zero is told to call, besides the clinic: the defaults are the United
# Kingdom's.
CLINIC_REMINDER_LEAD_HOURS = _positive_int("CLINIC_REMINDER_LEAD_HOURS", 24)
CLINIC_QUIET_HOURS = _quiet_hours("CLINIC_QUIET_HOURS", "21:00-08:00")
RISK_ESCALATION_MINUTES = _positive_int("RISK_ESCALATION_MINUTES", 240)
PORTAL_EMERGENCY_NUMBER = _phone("PORTAL_EMERGENCY_NUMBER", "999")
if not PORTAL_EMERGENCY_NUMBER:
    raise ImproperlyConfigured("Environment variable PORTAL_EMERGENCY_NUMBER must not be empty")
PORTAL_CRISIS_LINE_NAME = _env(
    "str", "PORTAL_CRISIS_LINE_NAME", default="Samaritans (free, day or night)"
).strip()
PORTAL_CRISIS_LINE_NUMBER = _phone("PORTAL_CRISIS_LINE_NUMBER", "116 123")
if env.str("PORTAL_CRISIS_LINE", default=""):
    # The crisis line became a name and a number (a tap-to-call link needs the number alone).
    raise ImproperlyConfigured(
        "Environment variable PORTAL_CRISIS_LINE is no longer read: set "
        "PORTAL_CRISIS_LINE_NAME and PORTAL_CRISIS_LINE_NUMBER instead"
    )

# Security headers (the production module turns on the HTTPS-only parts).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "ipt_clinic.errors.csrf_failure"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Celery: JSON only, late acknowledgement. A worker holds up to 4 messages per pool process:
# the outbox's tasks are short, so a pool process finishing one send has the next at hand
# instead of waiting on a broker round trip. A message held by a worker that dies comes back
# two ways: its row is re-enqueued by the sweeper once the row's lease runs out (under a
# minute, see NOTIFICATION_LEASE_SECONDS below), and the broker hands the message out again
# after the visibility timeout (the claim in the database keeps the send to once either way).
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    # Kept long on purpose: the sweeper, reading the database, already brings a dead worker's
    # rows back within a minute, so a short timeout would gain nothing there, while every
    # task (not only sends: the dispatcher, anything added later) running or waiting in a
    # busy worker's prefetch longer than it would be handed out and run a second time.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _positive_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
CELERY_RESULT_BACKEND = _env("str", "CELERY_RESULT_BACKEND", default=REDIS_URL or None) or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = _positive_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4)
# Celery's Django fixup closes the database connection around every task unless this is set:
# a new PostgreSQL backend per task. Tasks that care call close_old_connections() first, so
# CONN_MAX_AGE and the health check still apply.
CELERY_DB_REUSE_MAX = _positive_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_SOFT_TIME_LIMIT = _positive_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = _positive_int("CELERY_TASK_TIME_LIMIT", 90)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Risk flags nobody acknowledged within their clinic's window go to the admins and the
    # duty contact (sessions.risk).
    "escalate-risk-flags": {
        "task": "sessions.escalate_risk_flags",
        "schedule": _positive_int("RISK_ESCALATION_CHECK_SECONDS", 60),
    },
    "dispatch-due-notifications": {
        "task": "notifications.dispatch_due_notifications",
        "schedule": _positive_int("DISPATCH_INTERVAL_SECONDS", 60),
    },
    "sweep-stuck-notifications": {
        "task": "notifications.sweep_stuck_notifications",
        "schedule": _positive_int("NOTIFICATION_SWEEP_INTERVAL_SECONDS", 10),
    },
    # A maintenance course's monthly check-in is meant for 09:00 on its day: written by the
    # first run of that day, it waits in the outbox for its time; an hour is precision enough.
    "request-maintenance-checkins": {
        "task": "sessions.request_maintenance_checkins",
        "schedule": 3600,
    },
    # Bulk FHIR exports past their keeping time: files deleted, jobs marked expired; a job
    # whose message was lost is started again (interop.tasks).
    "sweep-fhir-exports": {
        "task": "interop.sweep_bulk_exports",
        "schedule": _positive_int("FHIR_EXPORT_SWEEP_SECONDS", 600),
    },
}
# The FHIR export (interop/): where the bulk exports' NDJSON files are written (a private
# directory, never served as static files), how many days they are kept, the hard time limit
# of one export job, and the system of the Patient identifier ({clinic} is the clinic's slug:
# a URI per clinic that names no treatment).
FHIR_EXPORT_DIR = Path(_env("str", "FHIR_EXPORT_DIR", default=str(VAR_DIR / "fhir-exports")))
FHIR_EXPORT_KEEP_DAYS = _positive_int("FHIR_EXPORT_KEEP_DAYS", 7)
FHIR_EXPORT_TIME_LIMIT = _positive_int("FHIR_EXPORT_TIME_LIMIT", 3600)
FHIR_IDENTIFIER_SYSTEM = _env(
    "str", "FHIR_IDENTIFIER_SYSTEM", default="urn:x-clinic:{clinic}:record-number"
)
# The outbox's timings. A row in "sending" is held by a lease; once it runs out, the sweeper
# (every NOTIFICATION_SWEEP_INTERVAL_SECONDS) sends the row again, so a dead worker's rows,
# held in its prefetch or half sent, come back within lease + sweep interval: 40 + 10 s.
# - A row not yet taken by a sender can be re-enqueued at any time without risk (the
#   sender's claim lets one message of it through); a short lease only costs a spare
#   message for rows that wait in a long queue more than 40 s.
# - A row a sender has taken must not be reopened while that sender lives (it may be about
#   to send): so the lease outlasts the send task's hard time limit, after which Celery has
#   killed the sender. A send is a claim, one SMTP exchange and one UPDATE: milliseconds, or
#   a few seconds against a slow server; its database retries stop at 0.6 of the limit.
# The sweep itself is one indexed query over the rows in "sending".
NOTIFICATION_SEND_TIME_LIMIT = _positive_int("NOTIFICATION_SEND_TIME_LIMIT", 30)
NOTIFICATION_LEASE_SECONDS = _positive_int("NOTIFICATION_LEASE_SECONDS", 40)
if NOTIFICATION_LEASE_SECONDS <= NOTIFICATION_SEND_TIME_LIMIT:
    raise ImproperlyConfigured(
        "NOTIFICATION_LEASE_SECONDS must be longer than NOTIFICATION_SEND_TIME_LIMIT "
        f"({NOTIFICATION_LEASE_SECONDS} <= {NOTIFICATION_SEND_TIME_LIMIT}): another worker "
        "could otherwise send a notification a live worker is still sending."
    )
NOTIFICATION_MAX_ATTEMPTS = _positive_int("NOTIFICATION_MAX_ATTEMPTS", 6)

# Every handler redacts the tokens of the links sent to people (portal, invitation, password
# reset) from what it writes (ipt_clinic/log_redaction.py): Django logs the path of each failed
# request ("Not Found: /p/<token>/"). Django's own handlers (DEFAULT_LOGGING: the error mail, the development
# server's request lines) are replaced here by the same ones with the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "ipt_clinic.log_redaction.RedactSecrets"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": _env("str", "LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF (the discharge letter) at INFO.
        "weasyprint": {"level": "WARNING"},
    },
}
# The error mail's report, with the same tokens removed (also from the frames' variables).
DEFAULT_EXCEPTION_REPORTER = "ipt_clinic.log_redaction.RedactingExceptionReporter"
