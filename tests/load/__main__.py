"""`make load`: 50 simulated CSRs and technicians for a few minutes against gunicorn + PostgreSQL + Redis.

    python -m tests.load [--users 50] [--minutes 3]

Reuses the benchmark's data set (`make bench` loads it under var/bench; this loads it too if missing), starts
a Redis on a free loopback port for the broker and the cache, serves the app with gunicorn and runs locust
headless on loopback. Prints requests, errors, p95 and double claims, writes var/load/results.json and exits
non-zero unless errors = 0, p95 < 500 ms and double claims = 0.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.__main__ import BENCH_DIR, ROOT, Server, _ensure_database, _environment, _manage
from tests.services import _start_redis, _state, start_postgres

LOAD_DIR = ROOT / "var" / "load"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--jobs", type=int, default=1_000_000, help="size of the data set if it must be loaded")
    options = parser.parse_args()
    LOAD_DIR.mkdir(parents=True, exist_ok=True)
    database_url, stop = start_postgres(BENCH_DIR / "pg")
    if database_url is None:
        sys.exit(f"load needs PostgreSQL: {stop}")
    redis_url, reason = _start_redis()
    if redis_url is None:
        stop()
        sys.exit(f"load needs Redis: {reason}")
    server = None
    try:
        _ensure_database(database_url)
        env = {
            **_environment(database_url),
            "CELERY_BROKER_URL": redis_url,
            "CACHE_URL": redis_url.replace("redis://", "rediscache://").rsplit("/", 1)[0] + "/1",
        }
        _manage("migrate", "--noinput", "-v0", env=env)
        _manage("collectstatic", "--noinput", "-v0", env=env)
        count = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from customers.models import Job; print(Job.objects.count())",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        if int(count) < options.jobs:
            _manage("seed_demo", "--scale", str(options.jobs), env=env)
        server = Server(env, workers=4)
        stats = LOAD_DIR / "locust"
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "-u",
                str(options.users),
                "-r",
                "10",
                "-t",
                f"{int(options.minutes * 60)}s",
                "--host",
                f"http://127.0.0.1:{server.port}",
                "--csv",
                str(stats),
                "--only-summary",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        print(run.stdout[-4000:], run.stderr[-4000:])
    finally:
        if server is not None:
            server.stop()
        for stop_redis in _state["stop"]:
            stop_redis()
        stop()
    with open(f"{stats}_stats.csv") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows["Aggregated"]
    double_claims = int(
        next(
            (
                line.split()[-1]
                for line in run.stderr.splitlines() + run.stdout.splitlines()
                if line.startswith("double claims:")
            ),
            "0",
        )
    )
    figures = {
        "simulated users": options.users,
        "seconds": int(options.minutes * 60),
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "p95 ms": float(total["95%"]),
        "median ms": float(total["50%"]),
        "requests/s": round(float(total["Requests/s"]), 1),
        "double claims": double_claims,
        "per page p95 ms": {name: float(row["95%"]) for name, row in rows.items() if name != "Aggregated"},
    }
    met = figures["errors"] == 0 and figures["p95 ms"] < 500 and double_claims == 0
    report = {"figures": figures, "met": met, "date": datetime.now(UTC).isoformat(timespec="seconds")}
    (LOAD_DIR / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"load targets met: {'yes' if met else 'NO'} (errors 0, p95 < 500 ms, 0 double claims)")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
