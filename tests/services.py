"""pytest plugin: the real services the suite runs against.

Loaded with `-p tests.services` (pyproject addopts) so it runs before pytest-django reads the
settings. Unless DATABASE_URL / CELERY_BROKER_URL already point at a PostgreSQL and a Redis,
it starts a throwaway PostgreSQL and Redis on free loopback ports for this run and stops them
at the end. Where the servers are not installed (the Makefile installs them on Debian as root),
the suite falls back to SQLite and skips the tests that need them, saying why; with CI=true a
missing service fails the run instead.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

_state = {"missing": {}, "stop": []}

# Safe for plain-HTTP test servers and the Django test client.
TEST_ENVIRONMENT = {
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "DJANGO_ALLOW_ASYNC_UNSAFE": "true",  # live_server + sync Playwright in one thread
}


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(service):
    """Why `service` ("postgres", "redis", "chromium") is unavailable, or None."""
    return _state["missing"].get(service)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return os.path.dirname(found[-1])
    pg_ctl = shutil.which("pg_ctl")
    return os.path.dirname(pg_ctl) if pg_ctl else None


def _as_postgres(command):
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        return ["su", "postgres", "-s", "/bin/sh", "-c", command]
    return ["sh", "-c", command]


def start_postgres(root=None):
    """Start a PostgreSQL on a free loopback port; returns (url, stop) or (None, reason).

    With `root`, the cluster lives there and survives `stop()` (the benchmark reuses its data);
    without, it is a throwaway cluster in a temporary folder.
    """
    bindir = _pg_bin()
    if bindir is None:
        return None, "PostgreSQL is not installed (Debian package postgresql)"
    keep = root is not None
    root = str(root) if keep else tempfile.mkdtemp(prefix="servicedesk-pg-")
    os.makedirs(root, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    data, log = f"{root}/data", f"{root}/log"
    if not os.path.exists(f"{data}/PG_VERSION"):
        initdb = f"{bindir}/initdb -D {data} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
        subprocess.run(_as_postgres(initdb), check=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    options += " -c full_page_writes=off -c max_connections=200"
    if keep:
        options += " -c shared_buffers=1GB -c work_mem=32MB -c maintenance_work_mem=512MB -c max_wal_size=8GB"
    start = f"{bindir}/pg_ctl -D {data} -l {log} -w -t 120 -o '{options}' start >/dev/null"
    subprocess.run(_as_postgres(start), check=True)

    def stop():
        mode = "fast" if keep else "immediate"
        subprocess.run(_as_postgres(f"{bindir}/pg_ctl -D {data} -m {mode} stop >/dev/null"), check=False)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)

    return f"postgres://postgres@127.0.0.1:{port}/servicedesk", stop


def _start_postgres():
    url, stop_or_reason = start_postgres()
    if url is None:
        return None, stop_or_reason
    _state["stop"].append(stop_or_reason)
    return url, None


def _start_redis():
    binary = shutil.which("redis-server", path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin")
    if binary is None:
        return None, "Redis is not installed (Debian package redis-server)"
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)

    def stop():
        process.terminate()
        process.wait(timeout=10)

    _state["stop"].append(stop)
    return f"redis://127.0.0.1:{port}/0", None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    for name, value in TEST_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        # The controller started Redis and passed its URL down: each worker has its own Redis database, so that a
        # real Celery worker one test starts never takes a task another worker's test enqueued. PostgreSQL is each
        # worker's own (below): what one commits must not show in the other's tests (transaction ids, the snapshot
        # servicedesk/unchanged.py keys its parts on, the activity a test watches are the whole server's).
        for name in ("CELERY_BROKER_URL", "REDIS_URL"):
            url = os.environ.get(name, "")
            if url.startswith("redis://"):
                os.environ[name] = url.rsplit("/", 1)[0] + f"/{int(worker.removeprefix('gw')) + 1}"
        if os.environ.get("SERVICEDESK_TEST_POSTGRES") == "own":
            os.environ.pop("DATABASE_URL", None)
    elif getattr(early_config.known_args_namespace, "numprocesses", None) and not os.environ.get("DATABASE_URL"):
        # pytest-xdist's controller runs no test: its workers start a PostgreSQL each.
        os.environ["SERVICEDESK_TEST_POSTGRES"] = "own"
        os.environ["DATABASE_URL"] = "postgres://"  # no server of the controller's own
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url, reason = _start_postgres()
        if url:
            os.environ["DATABASE_URL"] = url
        else:
            _state["missing"]["postgres"] = reason
            os.environ["DATABASE_URL"] = "sqlite://:memory:"
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        url, reason = _start_redis()
        if url:
            os.environ["CELERY_BROKER_URL"] = url
            os.environ["REDIS_URL"] = url
        else:
            _state["missing"]["redis"] = reason
            os.environ["CELERY_BROKER_URL"] = "memory://"
    if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        _state["missing"]["chromium"] = "Chromium is not installed (Debian package chromium)"
    if _state["missing"] and in_ci():
        for stop in reversed(_state["stop"]):
            stop()
        raise pytest.UsageError(
            "CI=true and a service the suite needs is missing: " + "; ".join(_state["missing"].values())
        )


def pytest_report_header(config):
    database = os.environ.get("DATABASE_URL")
    if os.environ.get("SERVICEDESK_TEST_POSTGRES") == "own":
        database = "a throwaway PostgreSQL started by each worker"
    lines = [f"database: {database}", f"broker: {os.environ.get('CELERY_BROKER_URL')}"]
    lines += [f"NOT AVAILABLE, tests that need it are skipped: {reason}" for reason in _state["missing"].values()]
    return lines


def pytest_unconfigure(config):
    while _state["stop"]:
        _state["stop"].pop()()
