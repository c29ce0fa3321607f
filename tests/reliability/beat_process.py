"""A beat-like process for the tests: waits for the go file, then runs every task of the beat schedule `rounds`
times, as a second beat (a second host, a deploy overlapping the old one) would send them.

    python -m tests.reliability.beat_process GO_FILE ROUNDS MAIL_FOLDER

Its e-mail goes to files in MAIL_FOLDER, for the test to count.
"""

import os
import sys
import time

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    import django

    django.setup()
    from django.conf import settings

    from servicedesk.celery import BEAT_SCHEDULE, app
    from tests.reliability.scenario import task

    # What a sweep hands a worker after commit (a webhook delivery) runs here, as in the tests' own runs.
    app.conf.task_always_eager = True

    go_file, rounds, settings.EMAIL_FILE_PATH = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    tasks = [task(entry["task"]) for entry in BEAT_SCHEDULE.values()]
    while not os.path.exists(go_file):
        time.sleep(0.005)
    for _ in range(rounds):
        for sweep in tasks:
            sweep()
