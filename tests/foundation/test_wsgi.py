"""The WSGI entry point that gunicorn serves: it builds the app and keeps what it loaded out of
the garbage collector's full passes."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json
from ipt_clinic.wsgi import application
print(json.dumps({"app": type(application).__name__, "frozen": gc.get_freeze_count()}))
"""


def test_the_wsgi_app_loads_with_its_startup_objects_frozen():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": "sqlite:///:memory:",
        "REDIS_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["app"] == "WSGIHandler"
    assert found["frozen"] > 10_000  # Django, the project's modules and models
