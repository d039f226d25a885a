"""Test settings: the same code, the database and broker from the environment when set."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
MFA_REQUIRED = True
# Every request saves the last-seen time, so two requests of a test run the same queries
# however long apart they are (tests/accounts/test_session_limits.py covers the interval).
SESSION_LAST_SEEN_INTERVAL = timedelta(0)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = []
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # pytest-django holds each test in a transaction, idle while the test waits on what it
    # started (a worker, a browser): no limit on an idle transaction here.
    DATABASES["default"]["OPTIONS"]["idle_in_transaction_timeout"] = 0  # noqa: F405
# The tests run as one role: a second ("owner") database would be the real one, not a test copy.
DATABASES.pop("owner", None)  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: the tests that start Celery workers share the test database with
    # them (tests/notifications/test_faults.py).
    # One file per test run, so that two runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"ipt-clinic-test-{os.getpid()}.sqlite3")
    }

# The bulk FHIR exports' files, one directory per test run.
FHIR_EXPORT_DIR = Path(tempfile.gettempdir()) / f"ipt-clinic-fhir-{os.getpid()}"
