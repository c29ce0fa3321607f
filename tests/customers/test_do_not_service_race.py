"""Do-not-service and a booking at the same moment, on PostgreSQL: the booking waits for the approval and is
refused, never slipping in between."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from customers import services
from customers.models import Job
from tests.factories import JobFactory, UserFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]


def _someone_waits_for_a_row_lock():
    with connections["default"].cursor() as cursor:
        # pg_locks, not pg_stat_activity: that one is read once per transaction, and this runs inside one.
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_a_booking_made_while_do_not_service_is_being_approved_waits_and_is_refused(postgres):
    csr, manager = UserFactory(username="csr", role="CSR"), UserFactory(username="manager", role="Manager")
    job = JobFactory()
    today = timezone.localdate()
    decision = services.do_not_service_propose(customer=job.customer, by=csr, reasons="Abusive.", attempts=[
        {"attempted_on": today, "channel": "phone", "what_happened": "Manager called; the customer hung up."},
        {"attempted_on": today, "channel": "letter", "what_happened": "Wrote to offer a meeting; no answer."},
    ])
    start = timezone.now() + timedelta(days=3)
    outcome = {}

    def book():
        try:
            services.job_book(customer_id=job.customer_id, site_id=job.site_id, kind=Job.Kind.SERVICE_CALL,
                              scheduled_start=start, scheduled_end=start + timedelta(hours=1), summary="Tune-up")
            outcome["booked"] = True
        except services.BookingRefused as refused:
            outcome["refused"] = str(refused)
        finally:
            connection.close()

    booking = threading.Thread(target=book)
    with transaction.atomic():
        services.do_not_service_approve(decision=decision, by=manager)
        booking.start()
        # The approval is written, not committed: the booking must be waiting on the customer's row.
        assert wait_for(_someone_waits_for_a_row_lock, timeout=10)
    booking.join(timeout=10)

    assert "booked" not in outcome and "do-not-service" in outcome["refused"]
    assert Job.objects.count() == 1
