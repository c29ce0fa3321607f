"""Two CSRs pressing "Take" on the same web callback at once, each with their own connection to PostgreSQL: one
owns it, the other is told who took it."""

import pytest

from callbacks import services
from callbacks.models import Callback
from servicedesk import roles
from tests.callbacks.factories import CallbackFactory
from tests.callbacks.follow_ups.test_calls_concurrency import _in_threads
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_two_csrs_taking_one_callback_at_once_leave_it_with_exactly_one_of_them(postgres):
    callback = CallbackFactory(assigned_to=None)
    csrs = [UserFactory(username=f"csr{i}", first_name="Carla", last_name=f"Reyes{i}", role=roles.CSR)
            for i in range(2)]

    def take(i):
        try:
            services.callback_take(callback=callback, by=csrs[i])
        except services.TransitionRefused as refused:
            return str(refused)
        return "taken"

    outcomes = _in_threads(2, take)

    assert outcomes.count("taken") == 1
    refused = [outcome for outcome in outcomes if outcome != "taken"]
    assert len(refused) == 1 and "is taken by Carla Reyes" in refused[0]
    owner = Callback.objects.get(pk=callback.pk).assigned_to
    assert owner in csrs
    assert callback.events.filter(action="taken").count() == 1
