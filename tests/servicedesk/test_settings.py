"""Settings come from the environment; a bad value stops the app at start-up, naming the variable.

Each case imports the settings in a fresh Python process, because settings are read once per process
and this test run's own environment (tests/services.py) must not leak into the case.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "servicedesk" / "settings.py"


def settings_variables():
    """Every environment variable servicedesk/settings.py reads."""
    source = SETTINGS_FILE.read_text()
    return set(re.findall(r"\benv(?:_bool|_int|\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def base_environment(**values):
    """This process's environment without anything the settings read or the test run set, plus `values`."""
    dropped = settings_variables() | set(services.TEST_ENVIRONMENT)
    environment = {name: value for name, value in os.environ.items() if name not in dropped}
    environment["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings"
    environment.update(values)
    return environment


def production_values(**values):
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "servicedesk.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://servicedesk.example.com",
        "DATABASE_URL": "postgres://servicedesk:secret@db.internal:5432/servicedesk",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        **values,
    }


READ_SETTINGS = """
import json
import servicedesk.settings as s
print(json.dumps({name: getattr(s, name, None) for name in NAMES}, default=str))
"""


def load_settings(names, **values):
    """The named settings as a fresh process sees them with `values` in its environment."""
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS.replace("NAMES", repr(names))],
        cwd=ROOT,
        env=base_environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def settings_error(**values):
    """The start-up error of a fresh process with `values`, which must fail."""
    result = subprocess.run(
        [sys.executable, "-c", "import servicedesk.settings"],
        cwd=ROOT,
        env=base_environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, f"settings loaded with {values}"
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    return last_line


@pytest.mark.parametrize(
    "name, value",
    [
        ("DEBUG", "maybe"),
        ("DEBUG", "ture"),
        ("BEHIND_TLS_PROXY", "yes please"),
        ("SECURE_SSL_REDIRECT", "2"),
        ("WHITENOISE_USE_FINDERS", "enabled"),
        ("CELERY_TASK_ALWAYS_EAGER", "nope"),
    ],
)
def test_a_boolean_that_is_not_true_or_false_stops_start_up_naming_the_variable(name, value):
    error = settings_error(**{name: value})
    assert f"{name} must be true or false" in error
    assert repr(value) in error


@pytest.mark.parametrize(
    "name, value",
    [("CONN_MAX_AGE", "soon"), ("SECURE_HSTS_SECONDS", "1.5"), ("CELERY_VISIBILITY_TIMEOUT", "1h")],
)
def test_a_number_that_is_not_a_whole_number_stops_start_up_naming_the_variable(name, value):
    error = settings_error(**{name: value, "CELERY_BROKER_URL": "redis://localhost:6379/0"})
    assert f"{name} must be a whole number" in error


def test_an_unknown_time_zone_stops_start_up():
    assert "TIME_ZONE 'Mars/Olympus_Mons' is not a known time zone" in settings_error(TIME_ZONE="Mars/Olympus_Mons")


def test_production_without_a_secret_key_stops_start_up():
    assert "SECRET_KEY must be set in production" in settings_error(DJANGO_ENV="production")


def test_production_without_a_secret_key_stops_start_up_even_with_debug_on():
    assert "SECRET_KEY must be set in production" in settings_error(DJANGO_ENV="production", DEBUG="true")


def test_a_misspelt_django_env_stops_start_up_rather_than_skipping_the_production_checks():
    assert "DJANGO_ENV must be development or production, got 'prod'" in settings_error(DJANGO_ENV="prod")


def test_with_nothing_set_the_defaults_serve_make_run_on_sqlite_and_the_filesystem_broker():
    loaded = load_settings(["DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASES", "CELERY_BROKER_URL", "TIME_ZONE"])
    assert loaded["DEBUG"] is False
    assert loaded["SECRET_KEY"].startswith("django-insecure-")
    assert loaded["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["DATABASES"]["default"]["NAME"].endswith("var/servicedesk.sqlite3")
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert loaded["TIME_ZONE"] == "America/Chicago"


@pytest.mark.parametrize(
    "value, expected",
    [("true", True), ("TRUE", True), ("yes", True), ("on", True), ("1", True),
     ("false", False), ("No", False), ("off", False), ("0", False), ("", False), ("  ", False)],
)
def test_booleans_accept_the_usual_spellings_and_empty_means_the_default(value, expected):
    assert load_settings(["DEBUG"], DEBUG=value)["DEBUG"] is expected


def test_production_values_turn_on_https_and_point_at_postgresql_and_redis():
    names = [
        "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASES", "CELERY_BROKER_URL",
        "CELERY_BROKER_TRANSPORT_OPTIONS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "STORAGES",
    ]
    loaded = load_settings(names, **production_values(BEHIND_TLS_PROXY="true", CONN_MAX_AGE=""))
    assert loaded["DEBUG"] is False
    assert loaded["ALLOWED_HOSTS"] == ["servicedesk.example.com"]
    assert loaded["CSRF_TRUSTED_ORIGINS"] == ["https://servicedesk.example.com"]
    database = loaded["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql", "db.internal", "servicedesk",
    )
    assert database["CONN_MAX_AGE"] == 60  # empty keeps the default
    assert loaded["CELERY_BROKER_URL"] == "redis://redis.internal:6379/0"
    assert loaded["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"visibility_timeout": 3600}
    assert loaded["SECURE_SSL_REDIRECT"] and loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_without_a_tls_proxy_the_forwarded_proto_header_is_not_trusted():
    assert load_settings(["SECURE_PROXY_SSL_HEADER"], **production_values())["SECURE_PROXY_SSL_HEADER"] is None


def test_email_url_configures_smtp():
    loaded = load_settings(
        ["EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL"],
        EMAIL_URL="smtp+tls://office:pw@smtp.example.com:587",
        DEFAULT_FROM_EMAIL="office@example.com",
    )
    assert loaded == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
        "DEFAULT_FROM_EMAIL": "office@example.com",
    }


def test_the_mail_server_is_given_a_timeout_so_a_silent_one_cannot_hold_a_worker():
    assert load_settings(["EMAIL_TIMEOUT"], **production_values())["EMAIL_TIMEOUT"] == 10
    assert load_settings(["EMAIL_TIMEOUT"], **production_values(EMAIL_TIMEOUT="3"))["EMAIL_TIMEOUT"] == 3
