"""A Redis of the test's own (stopped and started at will) and real Celery workers against it."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from celery import Celery

from tests.servicedesk.test_worker import _database_url


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class OwnRedis:
    """A throwaway redis-server on a free port, so stopping it cannot disturb the rest of the suite."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(redis_url):
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sender(own_redis):
    """Sends tasks by name to the test's Redis, as the web processes do. (An explicit connection: Celery prefers
    the CELERY_BROKER_URL environment variable, the suite's Redis, to any broker it is given.)"""
    # Not the current app: Celery makes a new app the current one of the thread that made it, and the shared tasks'
    # proxies called later in this process (tests/reliability/scenario.py) would look themselves up in this one.
    client = Celery("sender", set_as_current=False)
    connection = client.connection_for_write(own_redis.url)

    def send(name, *args):
        return client.send_task(name, args=list(args), connection=connection)

    yield send
    connection.release()
    client.close()


class Workers:
    """Starts real `celery worker` processes (each in its own process group, so SIGKILL takes its children too)."""

    def __init__(self, broker_url, tmp_path):
        self.broker_url = broker_url
        self.tmp_path = tmp_path
        self.running = []

    def start(self, *extra, visibility_timeout=2):
        env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": self.broker_url,
               "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout)}
        log = open(self.tmp_path / f"worker{len(self.running)}.log", "w")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "servicedesk", "worker", "-I", "tests.reliability.worker_tasks",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO", *extra],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        process.log = log
        self.running.append(process)
        return process

    def kill(self, process):
        """SIGKILL: no warm shutdown, no message given back; the broker only learns by the visibility timeout."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        process.log.close()

    def stop_all(self):
        """At the end of the test: its Redis is thrown away next and its database emptied, so nothing a worker
        holds matters any more; a warm shutdown would only cost seconds (waiting out the task it is running)."""
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            process.log.close()

    def logs(self):
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.tmp_path.glob("worker*.log")))


@pytest.fixture
def workers(own_redis, postgres, tmp_path):
    started = Workers(own_redis.url, tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def app_sends_to(monkeypatch):
    """app_sends_to(url): the web process's hand-overs (tasks sent after commit) go to the broker at `url`, as a
    deployment's do to its Redis; the app's own broker again at the end."""
    from servicedesk.celery import app

    before = app.conf.broker_url

    def point_at(url):
        # Drop the app's handles on its connection pools (kombu keeps a pool per broker URL, left open).
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    yield point_at
    monkeypatch.undo()
    app.conf.broker_url = before
    app._pool = None
    app.amqp._producer_pool = None
