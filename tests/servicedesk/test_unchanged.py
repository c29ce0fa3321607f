"""A rendered part is kept while nothing commits (servicedesk/unchanged.py), and the callback list, which keeps its
rows and filter that way, shows every committed write at once.

Transactional: a part is kept only outside a transaction, and what matters is what other connections commit."""

import re
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback
from customers.models import Customer
from servicedesk import roles, unchanged
from servicedesk.unchanged import render_unless_unchanged
from tests.callbacks.factories import CallbackFactory
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


class Renders:
    """A part that says how many times it was rendered, and the customer names it read."""

    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return ", ".join(Customer.objects.order_by("pk").values_list("name", flat=True))


def test_a_part_is_rendered_once_while_nothing_commits(postgres):
    CustomerFactory(name="Ada Moss")
    render = Renders()

    parts = [render_unless_unchanged(render, "part") for _ in range(3)]

    assert parts == ["Ada Moss"] * 3
    assert render.count == 1


def test_any_commit_renders_it_again_even_to_a_table_it_does_not_read(postgres):
    customer = CustomerFactory(name="Ada Moss")
    render = Renders()
    render_unless_unchanged(render, "part")

    UserFactory()
    render_unless_unchanged(render, "part")
    Customer.objects.filter(pk=customer.pk).update(name="Ada Moss-Reed")  # no signal, no save()

    assert render_unless_unchanged(render, "part") == "Ada Moss-Reed"
    assert render.count == 3


def test_a_write_shows_once_it_commits_and_not_before(postgres):
    customer = CustomerFactory(name="Ada Moss")
    render = Renders()
    written, commit, committed = threading.Event(), threading.Event(), threading.Event()

    def rename_in_a_transaction():
        try:
            with transaction.atomic():
                Customer.objects.filter(pk=customer.pk).update(name="Ada Moss-Reed")
                written.set()
                commit.wait(10)
        finally:
            connection.close()
            committed.set()

    writer = threading.Thread(target=rename_in_a_transaction)
    writer.start()
    assert written.wait(10)
    before = render_unless_unchanged(render, "part")
    commit.set()
    assert committed.wait(10)
    writer.join()

    assert before == "Ada Moss"
    assert render_unless_unchanged(render, "part") == "Ada Moss-Reed"
    assert render.count == 2


def test_each_key_and_each_minute_is_its_own_part(postgres, monkeypatch):
    render = Renders()
    render_unless_unchanged(render, "part", 1)
    render_unless_unchanged(render, "part", 2)
    assert render.count == 2

    a_minute_on = timezone.now() + timedelta(minutes=1)
    monkeypatch.setattr(unchanged.timezone, "now", lambda: a_minute_on)
    render_unless_unchanged(render, "part", 1)
    assert render.count == 3


def test_nothing_is_kept_inside_a_transaction(postgres):
    render = Renders()
    with transaction.atomic():
        CustomerFactory(name="Not committed yet")
        assert render_unless_unchanged(render, "part") == "Not committed yet"
        render_unless_unchanged(render, "part")
    assert render.count == 2
    assert unchanged.database_state() is not None


def test_nothing_is_kept_where_the_database_cannot_tell(postgres, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    render = Renders()
    render_unless_unchanged(render, "part")
    render_unless_unchanged(render, "part")
    assert render.count == 2


class DownCache:
    """A cache whose server is down."""

    def get(self, key, default=None, version=None):
        raise ConnectionError("cache server down")

    def set(self, key, value, timeout=None, version=None):
        raise ConnectionError("cache server down")


class RefusingCache(DownCache):
    """A cache that answers reads but refuses writes (out of memory, read-only replica)."""

    def get(self, key, default=None, version=None):
        return default


@pytest.mark.parametrize("broken_cache", [DownCache, RefusingCache])
def test_a_cache_that_fails_costs_the_render_not_the_page(postgres, monkeypatch, broken_cache):
    monkeypatch.setattr(unchanged, "cache", broken_cache())
    CustomerFactory(name="Ada Moss")
    render = Renders()

    assert render_unless_unchanged(render, "part") == "Ada Moss"
    assert render_unless_unchanged(render, "part") == "Ada Moss"
    assert render.count == 2


# --- the callback list ------------------------------------------------------------------------------------------


def without_csrf_tokens(html):
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]*"', "", html)


def listing(client, **params):
    response = client.get(reverse("callbacks:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_second_view_of_the_list_reads_only_who_is_asking(postgres, client, django_assert_num_queries):
    CallbackFactory.create_batch(3)
    client.force_login(UserFactory(role=roles.CSR))
    first = listing(client)

    # The session, the user, their roles, the navbar's unread count, and the database's state for each kept part.
    with django_assert_num_queries(6):
        again = listing(client)

    assert without_csrf_tokens(again) == without_csrf_tokens(first)


def test_the_list_shows_each_write_as_soon_as_it_commits(postgres, client):
    callback = CallbackFactory(problem="Water heater pilot keeps going out")
    client.force_login(UserFactory(role=roles.CSR))
    assert "Water heater pilot keeps going out" in listing(client)

    logged = CallbackFactory(problem="Breaker trips again")
    assert "Breaker trips again" in listing(client)

    Customer.objects.filter(pk=callback.customer_id).update(name="Renamed By The Import")
    assert "Renamed By The Import" in listing(client)

    Callback.objects.filter(pk=logged.pk).update(
        state=Callback.State.CLOSED, closed_at=timezone.now(), root_cause="workmanship")
    html = listing(client)
    assert "Breaker trips again" not in html and "Water heater pilot keeps going out" in html


def test_the_filter_shows_a_new_technician_at_once(postgres, client):
    client.force_login(UserFactory(role=roles.CSR))
    assert "Nina Newhire" not in listing(client)

    UserFactory(username="nina.newhire", first_name="Nina", last_name="Newhire", role=roles.TECHNICIAN)

    assert '>Nina Newhire</option>' in listing(client)


def test_the_office_shares_its_list_and_a_technician_never_gets_it(postgres, django_assert_num_queries):
    CallbackFactory(problem="Seen by the office only")
    csr, manager, technician = Client(), Client(), Client()  # logged in first: a login commits
    csr.force_login(UserFactory(role=roles.CSR))
    manager.force_login(UserFactory(role=roles.MANAGER))
    technician.force_login(UserFactory(role=roles.TECHNICIAN))
    assert "Seen by the office only" in listing(csr)

    with django_assert_num_queries(6):  # the CSR's rows and filter, kept: every office user sees every callback
        assert "Seen by the office only" in listing(manager)
    assert "Seen by the office only" not in listing(technician)


def test_my_callbacks_are_each_users_own(postgres):
    first, second = UserFactory(role=roles.CSR), UserFactory(role=roles.CSR)
    CallbackFactory(problem="Callback of the first CSR", assigned_to=first)
    CallbackFactory(problem="Callback of the second CSR", assigned_to=second)
    first_client, second_client = Client(), Client()
    first_client.force_login(first)
    second_client.force_login(second)

    assert "Callback of the first CSR" in first_client.get(reverse("callbacks:mine")).content.decode()
    html = second_client.get(reverse("callbacks:mine")).content.decode()

    assert "Callback of the second CSR" in html and "Callback of the first CSR" not in html
