"""Issue 17, point 10: a manager's edits of the follow-up call rules, the urgency targets and the recommendations'
follow-up intervals are kept, before and after, with who and when, and shown on the page that edits them."""

import pytest
from django.urls import reverse

from recommendations.models import FollowUpInterval
from servicedesk.audit import Via
from servicedesk.models import SettingChange
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _changes(setting):
    return sorted(SettingChange.objects.filter(setting=setting).values_list("item", "before", "after", "by", "via"))


def test_editing_the_follow_up_call_rules_records_each_value_changed_before_and_after(client_for, manager):
    client = client_for(manager)

    client.post(reverse("callbacks:call_rules"), {
        "service_call": "4", "maintenance": "3", "install": "", "estimate": "", "callback_revisit": "",
    })

    assert _changes("follow_up_rules") == [
        ("Install", "7 days after", "no call", manager.pk, Via.PAGE),
        ("Service call", "2 days after", "4 days after", manager.pk, Via.PAGE),
    ]
    body = client.get(reverse("callbacks:call_rules")).content.decode()
    assert "2 days after" in body and "4 days after" in body


def test_editing_the_urgency_targets_records_each_value_changed_before_and_after(client_for, manager):
    hours = (("emergency", "2", "8"), ("high", "4", "24"), ("normal", "24", "96"))
    data = {f"{u}-{f}": v for u, first, revisit in hours
            for f, v in (("first_contact_hours", first), ("revisit_hours", revisit))}
    client = client_for(manager)

    client.post(reverse("callbacks:targets"), data)
    client.post(reverse("callbacks:targets"), data)  # saved again unchanged: nothing new recorded

    assert _changes("urgency_targets") == [
        ("Emergency: first contact", "1 hour", "2 hours", manager.pk, Via.PAGE),
        ("Emergency: revisit", "4 hours", "8 hours", manager.pk, Via.PAGE),
        ("Normal: revisit", "72 hours", "96 hours", manager.pk, Via.PAGE),
    ]
    assert "Normal: revisit" in client.get(reverse("callbacks:targets")).content.decode()


def test_editing_the_follow_up_intervals_records_each_value_changed_before_and_after(client_for, manager):
    rows = list(FollowUpInterval.objects.order_by("days"))
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000"}
    for n, (row, days) in enumerate(zip(rows, (5, 30, 90), strict=True)):
        data[f"form-{n}-id"], data[f"form-{n}-days"] = row.pk, days
    client = client_for(manager)

    response = client.post(reverse("recommendations:intervals"), data)

    assert response.status_code == 302
    assert FollowUpInterval.days_for("failure_likely") == 5
    assert _changes("follow_up_intervals") == [("Failure likely soon", "7 days", "5 days", manager.pk, Via.PAGE)]
    assert "7 days" in client.get(reverse("recommendations:intervals")).content.decode()


def test_editing_an_interval_in_the_admin_is_recorded_as_from_the_admin(client_for):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    row = FollowUpInterval.objects.get(risk="advisory")

    response = client_for(root).post(reverse("admin:recommendations_followupinterval_change", args=[row.pk]),
                                      {"days": "120"})

    assert response.status_code == 302
    assert FollowUpInterval.days_for("advisory") == 120
    assert _changes("follow_up_intervals") == [("Advisory", "90 days", "120 days", root.pk, Via.ADMIN)]
