"""Recall windows by job kind: the defaults, a manager's change on the trail, and the log form proposing
"potential", with the reason, for a job past its window or of a kind with none."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks.models import RecallWindow
from callbacks.windows import outside_window, recall_windows, recall_windows_set
from customers.models import Job
from servicedesk.audit import setting_changes
from tests.servicedesk.dashboards.data import completed_job

pytestmark = pytest.mark.django_db


def test_the_default_windows_and_what_falls_outside(technician):
    assert recall_windows() == {"service_call": 30, "maintenance": 30, "install": 365, "estimate": None}
    now = timezone.now() + timedelta(minutes=1)
    assert outside_window(completed_job(technician, days_ago=29), now=now) == ""
    assert "completed 31 days ago, past its 30-day recall window" in outside_window(
        completed_job(technician, days_ago=31, kind=Job.Kind.MAINTENANCE), now=now)
    assert outside_window(completed_job(technician, days_ago=300, kind=Job.Kind.INSTALL), now=now) == ""
    assert "Estimate jobs have no recall window" in outside_window(
        completed_job(technician, days_ago=1, kind=Job.Kind.ESTIMATE), now=now)


def test_managers_set_the_windows_on_the_trail(manager, csr):
    with pytest.raises(ValidationError, match="Only managers"):
        recall_windows_set(windows={"install": 180}, by=csr)
    with pytest.raises(ValidationError, match="at least a day"):
        recall_windows_set(windows={"install": 0}, by=manager)
    recall_windows_set(windows={"install": 180, "estimate": 7}, by=manager)
    assert recall_windows()["install"] == 180 and recall_windows()["estimate"] == 7
    assert {(c.item, c.before, c.after) for c in setting_changes("recall_windows")} == {
        ("Install", "365 days", "180 days"), ("Estimate", "none", "7 days")}


def test_the_page_and_the_log_form_propose_potential_outside_the_window(client_for, manager, csr, technician):
    response = client_for(manager).post(reverse("callbacks:recall_windows"), {
        "service_call-days": "10", "maintenance-days": "30", "install-days": "365", "estimate-days": ""})
    assert response.status_code == 302
    assert RecallWindow.objects.get(kind="service_call").days == 10
    assert client_for(csr).get(reverse("callbacks:recall_windows")).status_code == 403

    old = completed_job(technician, days_ago=12)
    page = client_for(csr).get(reverse("callbacks:new"), {"customer": old.customer_id}).content.decode()
    assert "past its 10-day recall window" in page
    assert re.search(r'value="potential"[^>]*checked', page), "potential is the choice proposed"

    recent = completed_job(technician, days_ago=2)
    partial = client_for(csr).get(reverse("callbacks:repeat_check"), {"job": recent.pk}).content.decode()
    assert "recall window" not in partial and 'hx-swap-oob="true"' in partial
    partial = client_for(csr).get(reverse("callbacks:repeat_check"), {"job": old.pk}).content.decode()
    assert "past its 10-day recall window" in partial


def test_a_window_edited_in_the_admin_is_on_the_trail(client_for, manager):
    manager.is_staff = manager.is_superuser = True
    manager.save()
    response = client_for(manager).post(reverse("admin:callbacks_recallwindow_add"),
                                        {"kind": "install", "days": "200"})
    assert response.status_code == 302
    assert [(c.item, c.before, c.after, c.via) for c in setting_changes("recall_windows")] == [
        ("Install", "default", "200 days", "admin")]
    assert timezone.now() - RecallWindow.objects.get().updated_at < timedelta(minutes=5)
