"""docker-compose.yml, the Dockerfile and .env.example describe a deployable production setup.

Docker does not run on our machines, so the files are parsed and checked, and the commands the containers
run are run here, with the environment compose would give them, wherever that needs no Docker.
"""

import fnmatch
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.servicedesk.test_settings import ROOT, base_environment, settings_variables

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DJANGO_SERVICES = ["migrate", "web", "worker", "beat"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
VENV_BIN = Path(sys.executable).parent


def env_file_values(text):
    """KEY=VALUE lines as compose reads an env file: comments and blank lines skipped, quotes removed."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip().strip("'\"")
    return values


def interpolate(text, variables):
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$."""

    def replace(match):
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = variables.get(name, "")
        if operator == ":?" and not value:
            raise AssertionError(f"compose would refuse to start: {argument}")
        if operator == ":-" and not value:
            return argument
        return value

    text = re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", replace, str(text))
    return text.replace("$$", "$")


def filled_env_file():
    """.env.example with its REQUIRED blanks filled in, as an operator following it would."""
    values = env_file_values(ENV_EXAMPLE)
    assert values["SECRET_KEY"] == "" and values["POSTGRES_PASSWORD"] == "", "secrets must not ship in the example"
    values["SECRET_KEY"] = secrets.token_urlsafe(50)
    values["POSTGRES_PASSWORD"] = secrets.token_hex(24)
    return values


def compose_environment(service, dotenv):
    """The environment compose gives the container: env_file first, then `environment`, which wins."""
    config = SERVICES[service]
    environment = {}
    if config.get("env_file"):
        assert config["env_file"] in (".env", [".env"]), "the env file is the .env that .env.example documents"
        environment.update(dotenv)
    environment.update({name: interpolate(value, dotenv) for name, value in config.get("environment", {}).items()})
    return environment


def dockerfile_instructions():
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, argument = line.partition(" ")
            instructions.append((keyword.upper(), argument.strip()))
    return instructions


def test_compose_runs_postgres_redis_a_one_shot_migrate_web_worker_and_beat():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_postgres_15_keeps_its_data_in_a_volume_and_reports_ready_with_pg_isready():
    postgres = SERVICES["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert postgres["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "pg_isready" in postgres["healthcheck"]["test"][1]
    dotenv = filled_env_file()
    environment = {name: interpolate(value, dotenv) for name, value in postgres["environment"].items()}
    assert environment["POSTGRES_PASSWORD"] == dotenv["POSTGRES_PASSWORD"]


def test_redis_7_appends_every_write_to_a_volume_and_answers_ping():
    redis = SERVICES["redis"]
    assert redis["image"] == "redis:7"
    assert redis["command"] == ["redis-server", "--appendonly", "yes"]
    assert "redis-data:/data" in redis["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_migrate_runs_once_after_postgres_is_healthy():
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_web_worker_and_beat_start_only_on_healthy_services_and_a_migrated_database(service):
    assert SERVICES[service]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert SERVICES[service]["restart"] == "unless-stopped"


def test_web_serves_the_wsgi_app_with_gunicorn_and_is_health_checked_on_healthz():
    web = SERVICES["web"]
    command = web["command"]
    assert command[:2] == ["gunicorn", "servicedesk.wsgi"]
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert web["ports"] == ["127.0.0.1:8000:8000"]
    assert web["healthcheck"]["test"][0] == "CMD"
    assert "http://127.0.0.1:8000/healthz/" in web["healthcheck"]["test"][-1]


def test_the_wsgi_app_keeps_what_it_loaded_out_of_the_garbage_collectors_full_collections():
    """Loaded once per worker and kept for its life: frozen, a full collection no longer scans it (issue 8's tails)."""
    script = "import gc, servicedesk.wsgi; print(gc.get_freeze_count())"
    result = subprocess.run([sys.executable, "-c", script], env=base_environment(), cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert int(result.stdout.split()[-1]) > 10_000


def test_worker_and_beat_run_celery_with_the_editable_database_schedule():
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "servicedesk", "worker"]
    assert "celery -A servicedesk inspect ping" in SERVICES["worker"]["healthcheck"]["test"][1]
    beat = SERVICES["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "servicedesk", "beat"]
    assert beat[beat.index("--scheduler") + 1] == "django_celery_beat.schedulers:DatabaseScheduler"
    # A second beat would enqueue every sweep twice.
    assert "deploy" not in SERVICES["beat"] and "scale" not in SERVICES["beat"]


def test_data_lives_in_named_volumes():
    assert set(COMPOSE["volumes"]) == {"postgres-data", "redis-data", "media"}
    for service in ("web", "worker"):
        assert "media:/app/var/media" in SERVICES[service]["volumes"]
    assert "MEDIA_ROOT=/app/var/media" in DOCKERFILE


@pytest.mark.parametrize("service", DJANGO_SERVICES)
def test_every_service_that_runs_django_gets_the_production_environment(service):
    dotenv = filled_env_file()
    environment = compose_environment(service, dotenv)
    assert SERVICES[service]["image"] == "servicedesk:latest"
    assert environment["DJANGO_ENV"] == "production"
    assert environment["SECRET_KEY"] == dotenv["SECRET_KEY"]
    assert environment["ALLOWED_HOSTS"]
    assert environment["DATABASE_URL"] == (
        f"postgres://servicedesk:{dotenv['POSTGRES_PASSWORD']}@postgres:5432/servicedesk"
    )
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment.get("DEBUG", "false") == "false"


def test_compose_refuses_to_start_without_a_postgres_password():
    dotenv = {**filled_env_file(), "POSTGRES_PASSWORD": ""}
    with pytest.raises(AssertionError, match="set POSTGRES_PASSWORD in .env"):
        compose_environment("web", dotenv)


def test_env_example_documents_every_variable_the_settings_read():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, flags=re.MULTILINE))
    assert settings_variables() - documented == set()
    assert {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CELERY_BROKER_URL", "EMAIL_URL", "TIME_ZONE"} <= documented


def test_the_image_installs_the_project_collects_static_files_and_runs_gunicorn_as_a_non_root_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [argument for keyword, argument in instructions if keyword == "RUN"]
    assert any("pyproject.toml" in run and "pip" in run for run in runs)
    assert any("pip install --no-deps -e ." in run for run in runs)
    collectstatic = next(run for run in runs if "collectstatic" in run)
    assert re.search(r"SECRET_KEY=\S+ python manage.py collectstatic --noinput", collectstatic)
    users = [argument for keyword, argument in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    # Nothing after the switch may need root.
    last_user = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "USER")
    assert all(keyword != "RUN" for keyword, _ in instructions[last_user:])
    cmd = next(argument for keyword, argument in reversed(instructions) if keyword == "CMD")
    assert cmd.startswith('["gunicorn", "servicedesk.wsgi", "--bind", "0.0.0.0:8000"')
    assert yaml.safe_load(cmd) == SERVICES["web"]["command"]


def test_dockerignore_keeps_local_state_out_but_not_what_the_build_copies():
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for local_state in (".venv", "var", ".git", ".env"):
        assert local_state in patterns
    needed = ["pyproject.toml", "README.md", "manage.py", "servicedesk/settings.py", "templates/base.html",
              "static/css/servicedesk.css", ".env.example"]
    for path in needed:
        assert (ROOT / path).exists()
        assert not any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") for pattern in patterns), path


def django_environment(service, **overrides):
    return base_environment(**{**compose_environment(service, filled_env_file()), **overrides})


def test_check_deploy_reports_no_issues_with_the_compose_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=django_environment("web"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_celery_app_and_the_wsgi_app_load_with_the_compose_environment():
    script = (
        "import servicedesk.wsgi\n"
        "from servicedesk.celery import app\n"
        "from celery.utils.imports import symbol_by_name\n"
        "symbol_by_name('django_celery_beat.schedulers:DatabaseScheduler')\n"
        "print(app.conf.broker_url, app.conf.task_acks_late)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=django_environment("worker"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://redis:6379/0", "True"]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(url, host):
    """Status and Location of one request, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"Host": host}), timeout=5) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def test_the_web_command_serves_and_its_healthcheck_passes_while_other_pages_redirect_to_https(tmp_path):
    port = _free_port()
    command = [part.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for part in SERVICES["web"]["command"]]
    command[0] = str(VENV_BIN / command[0])
    # The compose environment, but SQLite instead of the postgres container (healthz runs SELECT 1).
    environment = django_environment(
        "web", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", WEB_CONCURRENCY="1"
    )
    server = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        healthcheck = SERVICES["web"]["healthcheck"]["test"][1:]
        healthcheck = [part.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for part in healthcheck]
        healthcheck[0] = sys.executable
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run(healthcheck, env=environment, capture_output=True, text=True, timeout=30)
            if result.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.3)
        assert result.returncode == 0, result.stderr
        host = environment["ALLOWED_HOSTS"].split(",")[0]
        assert _fetch(f"http://127.0.0.1:{port}/healthz/", host) == (200, None)
        assert _fetch(f"http://127.0.0.1:{port}/customers/", host) == (301, f"https://{host}/customers/")
        assert _fetch(f"http://127.0.0.1:{port}/healthz/", "attacker.example")[0] == 400
    finally:
        server.terminate()
        server.wait(timeout=30)
