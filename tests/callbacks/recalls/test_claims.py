"""Warranty part claims: a faulty-part resolution opens exactly one claim, its status flow refuses what makes no
sense, a credit larger than expected asks for confirmation, the reminders run twice and remind once, and the
callback's cost panel subtracts the credit received."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.claims import claim_update
from callbacks.models import CallbackEvent, Classification, WarrantyClaim
from callbacks.recalls.claim_reminders import remind_warranty_claims
from callbacks.recalls.services import callback_classify
from servicedesk.dashboards.claims import ClaimDashboard
from servicedesk.models import Notification
from tests.servicedesk.dashboards.data import completed_job

pytestmark = pytest.mark.django_db
Status = WarrantyClaim.Status
PART = {"faulty_part": "Igniter HS-1", "part_supplier": "Johnstone", "rma_reference": "RMA-77"}


def _faulty(csr, technician, **kwargs):
    logged = services.callback_log(job=completed_job(technician), problem="No heat.", channel="phone",
                                   urgency="normal", logged_by=csr, **kwargs)
    services.callback_acknowledge(callback=logged, by=csr)
    return services.callback_resolve(callback=logged, by=csr, root_cause="faulty_part", resolution="Igniter.",
                                     parts_cost=Decimal("120.00"), **PART)


def test_a_faulty_part_opens_exactly_one_claim_however_often_it_is_found(csr, technician, manager):
    callback = _faulty(csr, technician)
    services.callback_reopen(callback=callback, by=csr, reason="Still cold.")
    services.callback_resolve(callback=callback, by=csr, root_cause="faulty_part", resolution="Again.", **PART)
    claim = WarrantyClaim.objects.get()
    assert (claim.callback, claim.part_name, claim.supplier, claim.rma_number, claim.status) == (
        callback, "Igniter HS-1", "Johnstone", "RMA-77", Status.TO_SEND)
    assert callback.events.filter(action=CallbackEvent.Action.CLAIM).count() == 1

    # Classified a warranty part on diagnosis, then resolved so: still one claim.
    potential = services.callback_log(job=completed_job(technician), problem="Leak.", channel="phone",
                                      urgency="normal", logged_by=csr, potential=True)
    services.callback_acknowledge(callback=potential, by=csr)
    callback_classify(callback=potential, by=technician, classification=Classification.WARRANTY_PART,
                      faulty_part="Valve V2", part_supplier="Ferguson")
    services.callback_resolve(callback=potential, by=csr, root_cause="faulty_part", resolution="Valve.",
                              faulty_part="Valve V2", part_supplier="Ferguson", rma_reference="R-9")
    assert WarrantyClaim.objects.filter(callback=potential).count() == 1
    assert WarrantyClaim.objects.count() == 2


def test_the_status_flow_and_a_credit_larger_than_expected(csr, technician):
    claim = _faulty(csr, technician).warranty_claim
    with pytest.raises(ValidationError, match="can move to sent"):
        claim_update(claim=claim, by=csr, status=Status.APPROVED)
    with pytest.raises(ValidationError, match="Only the office"):
        claim_update(claim=claim, by=technician, status=Status.SENT)
    with pytest.raises(ValidationError) as refused:
        claim_update(claim=claim, by=csr, status=Status.SENT, rma_number="")
    assert "rma_number" in refused.value.message_dict
    claim = claim_update(claim=claim, by=csr, status=Status.SENT, expected_credit=Decimal("80.00"))
    assert claim.sent_on == timezone.localdate()
    claim = claim_update(claim=claim, by=csr, status=Status.APPROVED)
    with pytest.raises(ValidationError, match="more than the \\$80.00 expected"):
        claim_update(claim=claim, by=csr, status=Status.CREDITED, credit_received=Decimal("95.00"))
    claim = claim_update(claim=claim, by=csr, status=Status.CREDITED, credit_received=Decimal("95.00"),
                         confirm_credit=True)
    assert claim.credited_on == timezone.localdate()
    notes = list(claim.callback.events.filter(action="claim").values_list("note", flat=True))
    assert notes[1:] == ["Warranty claim (Igniter HS-1): To send → Sent, RMA RMA-77.",
                         "Warranty claim (Igniter HS-1): Sent → Approved.",
                         "Warranty claim (Igniter HS-1): Approved → Credited: $95.00 received."]
    with pytest.raises(ValidationError, match="settled"):
        claim_update(claim=claim, by=csr, status=Status.DENIED, denial_reason="x")

    other = _faulty(csr, technician).warranty_claim
    other = claim_update(claim=other, by=csr, status=Status.SENT)
    with pytest.raises(ValidationError, match="Say why"):
        claim_update(claim=other, by=csr, status=Status.DENIED)
    other = claim_update(claim=other, by=csr, status=Status.DENIED, denial_reason="Past the warranty date.")
    assert other.answered_on == timezone.localdate()


def test_reminders_unsent_after_3_days_and_unanswered_after_30_run_twice_remind_once(csr, technician, manager):
    unsent = _faulty(csr, technician).warranty_claim
    sent = claim_update(claim=_faulty(csr, technician).warranty_claim, by=csr, status=Status.SENT)
    now = timezone.now()
    assert remind_warranty_claims(now=now + timedelta(days=2)) == 0
    assert remind_warranty_claims(now=now + timedelta(days=3, minutes=1)) == 1
    assert remind_warranty_claims(now=now + timedelta(days=3, minutes=2)) == 0
    assert remind_warranty_claims(now=now + timedelta(days=31)) == 1
    assert remind_warranty_claims(now=now + timedelta(days=31)) == 0
    texts = list(Notification.objects.filter(key__startswith="claim:").order_by("pk").values_list(
        "recipient", "url", "text"))
    assert texts == [
        (csr.pk, reverse("callbacks:claim", args=[unsent.pk]),
         f"Warranty claim for Igniter HS-1 (not sent after 3 days): Johnstone, callback #{unsent.callback_id}"),
        (csr.pk, reverse("callbacks:claim", args=[sent.pk]),
         "Warranty claim for Igniter HS-1 (no answer 30 days after it was sent): Johnstone, callback "
         f"#{sent.callback_id}"),
    ]


def test_the_pages_the_cost_panel_and_the_export(client_for, csr, technician):
    callback = _faulty(csr, technician)
    claim = callback.warranty_claim
    office = client_for(csr)
    page = office.post(reverse("callbacks:claim", args=[claim.pk]), {
        "status": "sent", "part_name": "Igniter HS-1", "supplier": "Johnstone", "rma_number": "RMA-77",
        "expected_credit": "40.00"})
    assert page.status_code == 302
    page = office.post(reverse("callbacks:claim", args=[claim.pk]), {
        "status": "approved", "part_name": "Igniter HS-1", "supplier": "Johnstone", "rma_number": "RMA-77",
        "expected_credit": "40.00"})
    page = office.post(reverse("callbacks:claim", args=[claim.pk]), {
        "status": "credited", "part_name": "Igniter HS-1", "supplier": "Johnstone", "rma_number": "RMA-77",
        "expected_credit": "40.00", "credit_received": "45.00"})
    assert page.status_code == 200 and "tick “confirm”" in page.content.decode()
    page = office.post(reverse("callbacks:claim", args=[claim.pk]), {
        "status": "credited", "part_name": "Igniter HS-1", "supplier": "Johnstone", "rma_number": "RMA-77",
        "expected_credit": "40.00", "credit_received": "45.00", "confirm_credit": "on"})
    assert page.status_code == 302

    detail = office.get(callback.get_absolute_url()).content.decode()
    assert "− $45.00 warranty credit received: <strong>$75.00</strong> net parts" in detail

    listing = office.get(reverse("callbacks:claims"), {"status": "credited", "supplier": "johnst"}).content.decode()
    assert 'id="claims"' in listing and "received <strong>$45.00</strong>" in listing
    assert "No claim matches these filters." in office.get(reverse("callbacks:claims")).content.decode()
    export = b"".join(office.get(reverse("callbacks:export")).streaming_content).decode()
    assert "Warranty claim,Warranty credit received" in export.splitlines()[0]
    assert "credited,45.00" in export
    assert client_for(technician).get(reverse("callbacks:claims")).status_code == 403


def test_the_claims_dashboard_figures(client_for, csr, technician, manager):
    credited = _faulty(csr, technician).warranty_claim
    for status, details in ((Status.SENT, {"expected_credit": Decimal("50.00")}), (Status.APPROVED, {}),
                            (Status.CREDITED, {"credit_received": Decimal("40.00")})):
        credited = claim_update(claim=credited, by=csr, status=status, **details)
    denied = claim_update(claim=_faulty(csr, technician).warranty_claim, by=csr, status=Status.SENT,
                          expected_credit=Decimal("30.00"))
    claim_update(claim=denied, by=csr, status=Status.DENIED, denial_reason="Installed by someone else.")
    _faulty(csr, technician)  # still to send, no credit expected yet

    dashboard = ClaimDashboard()
    assert dashboard.claims_by_status().rows == [
        {"status": "To send", "claims": 1}, {"status": "Sent", "claims": 0}, {"status": "Approved", "claims": 0},
        {"status": "Credited", "claims": 1}, {"status": "Denied", "claims": 1}]
    assert [row["amount"] for row in dashboard.claim_credit().rows] == [Decimal("50.00"), Decimal("40.00")]
    assert dashboard.claim_suppliers().rows == [
        {"supplier": "Johnstone", "claims": 3, "answered": 2, "denied": 1, "rate": 50.0}]
    assert dashboard.failing_parts().rows == [{"part_name": "Igniter HS-1", "n": 3}]
    page = client_for(manager).get(reverse("dashboards:claims"))
    assert page.status_code == 200 and "Denial rate per supplier" in page.content.decode()
