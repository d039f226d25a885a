"""The production settings, as ``scripts/serve web`` runs them, with the collected static
files in a directory of the test's own: the checkout's staticfiles/ is left alone."""

import os

from ipt_clinic.settings.production import *  # noqa: F403

STATIC_ROOT = os.environ["SERVED_STATIC_ROOT"]
