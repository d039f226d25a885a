"""Local development and the one-command demo (embedded SQLite, no Redis needed)."""

from .base import *  # noqa: F403
from .base import _bool

DEBUG = _bool("DEBUG", default=True)
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
