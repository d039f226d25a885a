"""Start-up refuses bad or unsafe configuration, and production passes Django's deploy check."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ipt_clinic.settings.email_url import mailers_from_url

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = secrets.token_urlsafe(64)


def _manage(*args: str, settings: str = "ipt_clinic.settings.local", **env: str):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "MFA_REQUIRED", "EMAIL_URL"}
    }
    environment.update(env, DJANGO_SETTINGS_MODULE=settings, PYTHONWARNINGS="error")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MFA_REQUIRED": "maybe"}, "MFA_REQUIRED must be true or false"),
        ({"DEBUG": "perhaps"}, "DEBUG must be true or false"),
        ({"SESSION_IDLE_MINUTES": "-1"}, "SESSION_IDLE_MINUTES must be a positive integer"),
        ({"SESSION_IDLE_MINUTES": "soon"}, "SESSION_IDLE_MINUTES has a bad value"),
        (
            {"SESSION_IDLE_MINUTES": "30", "SESSION_ABSOLUTE_MINUTES": "20"},
            "SESSION_IDLE_MINUTES must not be longer than SESSION_ABSOLUTE_MINUTES",
        ),
        ({"TIME_ZONE": "Mars/Base"}, "TIME_ZONE is not a known time zone"),
        # A new clinic's defaults (each clinic then changes its own on its Settings page).
        (
            {"CLINIC_QUIET_HOURS": "08:00-21:00"},
            "CLINIC_QUIET_HOURS has a bad value: Quiet hours are for the night",
        ),
        (
            {"CLINIC_QUIET_HOURS": "late"},
            "CLINIC_QUIET_HOURS has a bad value: expected HH:MM-HH:MM",
        ),
        ({"PORTAL_EMERGENCY_NUMBER": "nine nine nine"}, "PORTAL_EMERGENCY_NUMBER has a bad value"),
        ({"PORTAL_CRISIS_LINE_NUMBER": "12"}, "PORTAL_CRISIS_LINE_NUMBER has a bad value"),
        ({"PORTAL_CRISIS_LINE": "Samaritans: 116 123"}, "PORTAL_CRISIS_LINE is no longer read"),
        ({"RISK_ESCALATION_MINUTES": "0"}, "RISK_ESCALATION_MINUTES must be a positive integer"),
        ({"EMAIL_URL": "pigeon://loft"}, "EMAIL_URL has a bad value: unknown scheme"),
        ({"LOGIN_THROTTLE_PER_ACCOUNT": "0"}, "LOGIN_THROTTLE_PER_ACCOUNT must be a positive"),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "DATABASE_PREPARE_THRESHOLD": "0"},
            "DATABASE_PREPARE_THRESHOLD must be a positive integer",
        ),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "DATABASE_SERVER_SIDE_BINDING": "?"},
            "DATABASE_SERVER_SIDE_BINDING must be true or false",
        ),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "DATABASE_STATEMENT_TIMEOUT": "-1"},
            "DATABASE_STATEMENT_TIMEOUT must be 0 (no limit) or more seconds",
        ),
        (
            {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "DATABASE_CLIENT_TIMEOUT": "soon"},
            "DATABASE_CLIENT_TIMEOUT has a bad value",
        ),
    ],
)
def test_it_refuses_to_start_with_a_bad_value(env, message):
    result = _manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_to_start_without_a_real_secret_key():
    result = _manage("check", settings="ipt_clinic.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a long random value" in result.stderr
    short = _manage("check", settings="ipt_clinic.settings.production", SECRET_KEY="s3cret")
    assert short.returncode != 0
    assert "SECRET_KEY must be set" in short.stderr


def test_production_refuses_to_start_with_debug_on():
    result = _manage(
        "check", settings="ipt_clinic.settings.production", SECRET_KEY=GOOD_KEY, DEBUG="true"
    )
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_production_passes_the_deploy_check_without_warnings():
    # Exactly the documented command: only a secret key and the host name.
    plain = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings="ipt_clinic.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="example.org",
    )
    assert plain.returncode == 0, plain.stderr
    assert "no issues" in plain.stdout
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings="ipt_clinic.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="example.org",
        EMAIL_URL="smtp+tls://mailer:p%40ss@smtp.example.org:587",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    # PYTHONWARNINGS=error: a deprecated setting (EMAIL_HOST...) would have failed start-up.
    assert "Warning" not in result.stderr


def test_production_settings_are_https_only():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY,"
        " 'django.middleware.csp.ContentSecurityPolicyMiddleware' in s.MIDDLEWARE,"
        " s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_HTTPONLY)",
        settings="ipt_clinic.settings.production",
        SECRET_KEY=GOOD_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "True",
        "True",
        "DENY",
        "same-origin",
        "True",
        "__Host-sessionid",
        "True",
    ]


class TestMailersFromUrl:
    def test_it_builds_an_smtp_mailer_with_starttls(self):
        mailers = mailers_from_url("smtp+tls://mailer:p%40ss%2Fword@smtp.example.org:587")
        assert mailers == {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {
                    "host": "smtp.example.org",
                    "port": 587,
                    "use_tls": True,
                    "username": "mailer",
                    "password": "p@ss/word",
                },
            }
        }

    def test_it_builds_plain_and_ssl_smtp(self):
        plain = mailers_from_url("smtp://mailcatcher:1025")["default"]["OPTIONS"]
        assert plain == {"host": "mailcatcher", "port": 1025}
        ssl = mailers_from_url("smtps://u:p@smtp.example.org?timeout=5")["default"]["OPTIONS"]
        assert ssl["use_ssl"] is True and ssl["timeout"] == 5.0 and "port" not in ssl

    def test_it_builds_console_file_and_memory_mailers(self):
        assert mailers_from_url("consolemail://")["default"]["BACKEND"].endswith(
            "console.EmailBackend"
        )
        file = mailers_from_url("filemail:///var/tmp/ipt-mail")["default"]
        assert file["OPTIONS"] == {"file_path": "/var/tmp/ipt-mail"}
        assert mailers_from_url("memorymail://")["default"]["BACKEND"].endswith(
            "locmem.EmailBackend"
        )

    @pytest.mark.parametrize(
        "url",
        [
            "smtp://",
            "smtp://host:notaport",
            "smtp://host?timeout=soon",
            "smtp://host?tls=yes",
            "filemail://relative/dir",
            "ftp://host",
        ],
    )
    def test_it_refuses_a_bad_url_clearly(self, url):
        with pytest.raises(ImproperlyConfigured, match="EMAIL_URL has a bad value"):
            mailers_from_url(url)

    def test_the_mailer_it_builds_really_sends(self, tmp_path):
        # The file mailer built from a URL, used through Django 6.1's mailers, writes the message.
        from django.test import override_settings

        with override_settings(MAILERS=mailers_from_url(f"filemail://{tmp_path}")):
            from django.core.mail import EmailMessage

            EmailMessage("Hello", "Body", "a@example.org", ["b@example.org"]).send(using="default")
        written = list(tmp_path.iterdir())
        assert len(written) == 1 and "Subject: Hello" in written[0].read_text()


@pytest.mark.django_db
def test_a_query_repeated_on_one_connection_is_prepared_on_postgresql():
    from django.db import connection

    from patients.models import Patient

    if connection.vendor != "postgresql":
        assert "server_side_binding" not in connection.settings_dict["OPTIONS"]
        return
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for number in range(threshold + 1):
        Patient.objects.filter(pk=number).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('"patients_patient"' in statement for statement in prepared)
