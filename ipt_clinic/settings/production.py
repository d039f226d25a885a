"""Production: HTTPS only, a real secret key or no start."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, _bool, _env, _positive_int, mailers_from_url

if DEBUG:  # noqa: F405
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
if (
    not SECRET_KEY
    or SECRET_KEY.startswith("insecure-")
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value in production (50+ characters); "
        "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )

# seed_demo, demo_logins and anything else that makes demo accounts refuse to run (demo/guard.py):
# the demo's staff share a published password. Deliberately not read from the environment.
DEMO_DATA_ALLOWED = False

SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = _positive_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# "__Host-" cookies are only accepted over HTTPS, for this exact host and path "/": a sibling
# subdomain cannot plant or overwrite the staff session or CSRF cookie.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Email must really leave: without EMAIL_URL, hand it to the host's mail relay on port 25
# (the console backend of local development would fail the deploy check).
MAILERS = mailers_from_url(_env("str", "EMAIL_URL", default="smtp://localhost:25"))
