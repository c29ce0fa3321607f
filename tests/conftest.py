import os

import pytest

from servicedesk import roles
from tests import services
from tests.accessibility import Audit
from tests.factories import UserFactory


def _empties_the_tables(item):
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    return transactional or "transactional_db" in item.fixturenames or "live_server" in item.fixturenames


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Transactional tests (the browser tests among them) run last, as Django orders them: they empty every table
    when they end, the rows the migrations seed too (follow-up intervals, urgency targets, roles), and a test after
    them would miss those. pytest-django orders them so, but pytest then groups the tests that take Playwright's
    session-wide browser parameter, wherever they are. A stable sort keeps each group's order."""
    items.sort(key=_empties_the_tables)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_in_the_test(request):
    """A task enqueued after commit (an e-mail) runs inside the test, so what it does is checked right there; the
    tests marked `worker` send theirs to a real worker instead."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    from servicedesk.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The suite's company keeps every urgency target around the clock (by default high and normal run in business
    hours), so that no test's due times depend on the hour and the weekday the suite runs at. The business clock and
    the defaults have their own tests, at fixed times (tests/callbacks/recalls/test_business_hours.py)."""
    from callbacks.models import UrgencyTarget

    with django_db_blocker.unblock():
        UrgencyTarget.objects.update(business_hours=False)


@pytest.fixture(autouse=True)
def _targets_around_the_clock(monkeypatch):
    """The same when the rows are gone (a transactional test empties every table): the defaults around the clock.
    A worker process a test starts reads the rows, so such a test writes them (tests/callbacks/factories.py)."""
    from callbacks.models import DEFAULT_BUSINESS_HOURS

    for urgency in list(DEFAULT_BUSINESS_HOURS):
        monkeypatch.setitem(DEFAULT_BUSINESS_HOURS, urgency, False)


@pytest.fixture(autouse=True)
def _no_whitenoise_manifest(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _require(service):
    reason = services.missing(service)
    if reason:
        pytest.skip(reason)


@pytest.fixture
def postgres():
    """Marks a test that proves something only PostgreSQL can (row locks, ON CONFLICT)."""
    _require("postgres")


@pytest.fixture
def redis_url():
    _require("redis")
    return os.environ["CELERY_BROKER_URL"]


@pytest.fixture
def csr(db):
    return UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER)


@pytest.fixture
def technician(db):
    return UserFactory(username="technician", first_name="Tom", last_name="Alvarez", role=roles.TECHNICIAN)


@pytest.fixture
def sales(db):
    return UserFactory(username="sales", first_name="Sam", last_name="Park", role=roles.SALES)


@pytest.fixture
def outsider(db):
    """Logged in, but holds no role: must see nothing."""
    return UserFactory(username="outsider")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


# Playwright with the system Chromium: `playwright install` cannot download browsers here.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    reason = services.missing("chromium")
    if reason:
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's contexts (the `context` and `page` fixtures are made from it), each page checked with
    axe-core when it loads (tests/accessibility.py). Tests that need a second browser use this fixture too."""
    audit = Audit()

    def watched(**kwargs):
        context = new_context(**kwargs)
        audit.watch(context)
        return context

    yield watched
    assert not audit.violations, audit.report()
