"""The callback pages' markup that assistive technology relies on (issue 18, point 6); the browser tests run axe-core
on every page they visit as well (tests/accessibility.py)."""

import re
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import TrainingItem
from tests.callbacks.factories import CallbackFactory
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db


def test_every_id_on_the_callback_page_is_unique_so_each_label_focuses_its_own_field(client_for, csr):
    callback = CallbackFactory()  # new: the acknowledge and hand-off forms, each with a note, are both on the page

    body = client_for(csr).get(reverse("callbacks:detail", args=[callback.pk])).content.decode()

    ids = Counter(re.findall(r'\sid="([^"]+)"', body))
    assert [name for name, count in ids.items() if count > 1] == []
    assert 'for="id_acknowledge_note"' in body and 'for="id_hand_off_note"' in body


def test_each_training_item_has_its_own_form_ids(client_for, manager):
    callback = CallbackFactory(state="resolved", root_cause="workmanship")
    # Two items on one callback: one per cause (a callback resolved, reopened and resolved with another cause).
    for technician, cause in zip(TechnicianFactory.create_batch(2), ("workmanship", "misdiagnosis"), strict=True):
        TrainingItem.objects.create(technician=technician, callback=callback, root_cause=cause,
                                    what_happened="Flue not sealed.", due_on=timezone.localdate())
    client = client_for(manager)

    body = client.get(reverse("callbacks:detail", args=[callback.pk])).content.decode()
    refused = client.post(reverse("callbacks:training_done", args=[callback.pk, TrainingItem.objects.last().pk]), {})

    ids = Counter(re.findall(r'\sid="([^"]+)"', body))
    assert [name for name, count in ids.items() if count > 1] == []
    assert body.count('name="lesson"') == 2
    assert refused.content.decode().count("This field is required.") == 1  # on the item it was posted for


def test_a_refused_action_keeps_the_ids_of_its_form(client_for, csr):
    callback = CallbackFactory()

    body = client_for(csr).post(reverse("callbacks:hand_off", args=[callback.pk]), {}).content.decode()

    assert 'id="id_hand_off_note"' in body and 'id="id_note"' not in body


def test_the_log_a_callback_page_names_its_sections_only_by_headings_it_has(client_for, csr):
    body = client_for(csr).get(reverse("callbacks:new")).content.decode()

    for labelled_by in re.findall(r'aria-labelledby="([^"]+)"', body):
        assert f'id="{labelled_by}"' in body, labelled_by
