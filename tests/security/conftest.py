import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from .world import ROLES, build_world


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the recommendation's photo
    return build_world()


class Visitor:
    """One logged-in browser per role; each request runs in a savepoint that is rolled back, so every request
    of the matrix meets the same world whatever the requests before it did (a POST that succeeds, a logout)."""

    def __init__(self, world):
        self.clients = {}
        for role in ROLES:
            client = Client()
            if world.users[role] is not None:
                client.force_login(world.users[role])
            self.clients[role] = (client, world.users[role])

    def __call__(self, role, method, path, data=None, inspect=None, **extra):
        client, user = self.clients[role]
        cache.clear()  # the public pages' per-hour throttle counts every request
        client.cookies.pop("messages", None)  # an earlier redirect's message is not this request's
        with transaction.atomic():
            response = getattr(client, method.lower())(path, data or {}, **extra)
            if inspect is not None:
                inspect(response)  # sees what the request wrote, before it is rolled back
            transaction.set_rollback(True)
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if user is not None and (cookie is None or not cookie.value or not client.session.exists(cookie.value)):
            client.force_login(user)  # the request logged out or rotated the (rolled back) session
        return response


@pytest.fixture
def visit(world):
    return Visitor(world)
