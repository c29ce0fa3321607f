"""The recommendation lifecycle: only the allowed moves, each recorded with who, when, from and to."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Job
from recommendations import services
from recommendations.models import FollowUpInterval, Recommendation, RecommendationEvent, Risk
from servicedesk.models import Notification
from tests.factories import EquipmentFactory, JobFactory, SiteFactory

from .factories import RecommendationFactory

pytestmark = pytest.mark.django_db
State = Recommendation.State


def test_raising_sets_owner_follow_up_from_risk_and_records_the_event(technician):
    job = JobFactory(lead_technician=technician)
    equipment = EquipmentFactory(site=job.site)

    recommendation = services.recommendation_raise(
        site=job.site, raised_by=technician, what="Replace cracked heat exchanger", risk=Risk.FAILURE_LIKELY,
        why="Carbon monoxide risk", equipment=equipment, job=job, price_low=2500, price_high=4000,
        customer_acknowledged=True,
    )

    assert recommendation.state == State.OPEN
    assert recommendation.owner == technician
    assert recommendation.customer == job.customer
    assert recommendation.raised_on_job == job
    assert recommendation.next_follow_up_on == timezone.localdate() + timedelta(days=7)
    event = recommendation.events.get()
    assert (event.action, event.by, event.from_state, event.to_state) == ("raised", technician, "", "open")


def test_follow_up_interval_is_what_the_manager_set(technician):
    FollowUpInterval.objects.filter(risk=Risk.ADVISORY).update(days=45)

    recommendation = services.recommendation_raise(
        site=SiteFactory(), raised_by=technician, what="Add a surge protector", risk=Risk.ADVISORY
    )

    assert recommendation.next_follow_up_on == timezone.localdate() + timedelta(days=45)


def test_default_intervals_are_seeded():
    assert dict(FollowUpInterval.objects.values_list("risk", "days")) == {
        "failure_likely": 7, "should_be_done": 30, "advisory": 90,
    }


def test_raise_names_an_owner_when_given(technician, sales):
    recommendation = services.recommendation_raise(
        site=SiteFactory(), raised_by=technician, what="New water heater", risk=Risk.SHOULD_BE_DONE, owner=sales
    )

    assert recommendation.owner == sales


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"risk": "whenever"}, "risk"),
        ({"what": "  "}, "what"),
        ({"price_low": 900, "price_high": 100}, "price_high"),
    ],
)
def test_raise_refuses_bad_input_and_creates_nothing(technician, kwargs, field):
    arguments = {"site": SiteFactory(), "raised_by": technician, "what": "Flush the tank", "risk": Risk.ADVISORY}

    with pytest.raises(ValidationError) as error:
        services.recommendation_raise(**{**arguments, **kwargs})

    assert field in error.value.message_dict
    assert not Recommendation.objects.exists() and not RecommendationEvent.objects.exists()


def test_raise_refuses_equipment_at_another_site(technician):
    with pytest.raises(ValidationError):
        services.recommendation_raise(
            site=SiteFactory(), raised_by=technician, what="x", risk=Risk.ADVISORY, equipment=EquipmentFactory()
        )


def test_accept_schedules_a_job_at_the_site(manager, technician):
    recommendation = RecommendationFactory()
    start = timezone.now() + timedelta(days=3)

    services.recommendation_accept(recommendation=recommendation, by=manager, scheduled_start=start,
                                   technician=technician)

    recommendation.refresh_from_db()
    job = recommendation.accepted_job
    assert recommendation.state == State.ACCEPTED
    assert recommendation.next_follow_up_on is None
    assert (job.site, job.status, job.lead_technician, job.scheduled_start) == (
        recommendation.site, Job.Status.SCHEDULED, technician, start,
    )
    assert job.summary == recommendation.what
    event = recommendation.events.get()
    assert (event.by, event.from_state, event.to_state) == (manager, "open", "accepted")


def test_accept_links_an_existing_job(manager):
    recommendation = RecommendationFactory()
    job = JobFactory(site=recommendation.site)

    services.recommendation_accept(recommendation=recommendation, by=manager, job=job)

    assert Recommendation.objects.get().accepted_job == job


def test_decline_needs_a_reason(manager):
    recommendation = RecommendationFactory()

    with pytest.raises(ValidationError):
        services.recommendation_decline(recommendation=recommendation, by=manager, reason=" ")
    services.recommendation_decline(recommendation=recommendation, by=manager, reason="Selling the house")

    recommendation.refresh_from_db()
    assert recommendation.state == State.DECLINED and recommendation.decline_reason == "Selling the house"


def test_deferred_stays_outstanding_with_its_follow_up_on_the_date(manager):
    recommendation = RecommendationFactory()
    until = timezone.localdate() + timedelta(days=60)

    services.recommendation_defer(recommendation=recommendation, by=manager, until=until)

    recommendation.refresh_from_db()
    assert recommendation.state == State.DEFERRED
    assert recommendation.next_follow_up_on == until
    assert Recommendation.objects.open().filter(pk=recommendation.pk).exists()


def test_defer_refuses_a_past_date(manager):
    with pytest.raises(ValidationError):
        services.recommendation_defer(recommendation=RecommendationFactory(), by=manager, until=timezone.localdate())


def test_a_deferred_recommendation_can_still_fail_or_be_reopened(manager):
    failing = RecommendationFactory(state=State.DEFERRED, deferred_until=timezone.localdate() + timedelta(days=9))
    reopening = RecommendationFactory(state=State.DEFERRED, deferred_until=timezone.localdate() + timedelta(days=9))

    services.recommendation_mark_failed_while_open(recommendation=failing, by=manager, note="Flooded basement")
    services.recommendation_reopen(recommendation=reopening, by=manager)

    assert Recommendation.objects.get(pk=failing.pk).state == State.FAILED_WHILE_OPEN
    reopened = Recommendation.objects.get(pk=reopening.pk)
    assert reopened.state == State.OPEN and reopened.deferred_until is None


@pytest.mark.parametrize(
    "final_state", [State.ACCEPTED, State.DECLINED, State.DONE_BY_OTHERS, State.WITHDRAWN, State.FAILED_WHILE_OPEN]
)
def test_a_closed_recommendation_cannot_move_again(manager, final_state):
    extra = {"decline_reason": "No"} if final_state == State.DECLINED else {}
    if final_state == State.ACCEPTED:
        extra["accepted_job"] = JobFactory()
    recommendation = RecommendationFactory(state=final_state, **extra)

    for move in (
        lambda: services.recommendation_withdraw(recommendation=recommendation, by=manager, note="Mistake"),
        lambda: services.recommendation_mark_done_by_others(recommendation=recommendation, by=manager),
        lambda: services.recommendation_mark_failed_while_open(recommendation=recommendation, by=manager),
        lambda: services.recommendation_defer(
            recommendation=recommendation, by=manager, until=timezone.localdate() + timedelta(days=5)
        ),
        lambda: services.recommendation_reopen(recommendation=recommendation, by=manager),
    ):
        with pytest.raises(ValidationError):
            move()

    assert Recommendation.objects.get().state == final_state
    assert not RecommendationEvent.objects.exists()


def test_every_state_change_is_an_event_in_order(manager, technician):
    recommendation = RecommendationFactory(raised_by=technician)

    services.recommendation_defer(
        recommendation=recommendation, by=technician, until=timezone.localdate() + timedelta(days=30)
    )
    services.recommendation_reopen(recommendation=recommendation, by=manager, note="Customer called back")
    services.recommendation_mark_done_by_others(recommendation=recommendation, by=manager, note="Another firm")

    moves = list(recommendation.events.values_list("from_state", "to_state", "by__username"))
    assert moves == [
        ("open", "deferred", "technician"),
        ("deferred", "open", "manager"),
        ("open", "done_by_others", "manager"),
    ]


def test_withdraw_needs_a_reason(manager):
    with pytest.raises(ValidationError):
        services.recommendation_withdraw(recommendation=RecommendationFactory(), by=manager, note="")


def test_pass_to_sales_changes_the_owner_is_recorded_and_tells_sales(
    technician, sales, django_capture_on_commit_callbacks
):
    recommendation = RecommendationFactory(raised_by=technician, risk=Risk.FAILURE_LIKELY,
                                           next_follow_up_on=timezone.localdate() + timedelta(days=60))

    with django_capture_on_commit_callbacks(execute=True):
        services.recommendation_pass_to_sales(recommendation=recommendation, by=technician, to=sales)

    assert Notification.objects.get(recipient=sales).url == recommendation.get_absolute_url()

    recommendation.refresh_from_db()
    assert recommendation.owner == sales
    assert recommendation.passed_to_sales_by == technician and recommendation.passed_to_sales_at is not None
    assert recommendation.next_follow_up_on == timezone.localdate() + timedelta(days=7)
    event = recommendation.events.get()
    assert event.action == RecommendationEvent.Action.PASSED_TO_SALES and event.by == technician


def test_pass_to_sales_refuses_someone_not_in_sales(technician, csr):
    with pytest.raises(ValidationError):
        services.recommendation_pass_to_sales(recommendation=RecommendationFactory(), by=technician, to=csr)


def test_a_discussion_moves_the_next_follow_up_on_but_not_discussed_does_not(technician):
    recommendation = RecommendationFactory(risk=Risk.SHOULD_BE_DONE, next_follow_up_on=timezone.localdate())
    job = JobFactory(site=recommendation.site, lead_technician=technician)

    services.recommendation_record_discussion(
        recommendation=recommendation, technician=technician, response="not_discussed", note="Customer not home",
        job=job,
    )
    assert Recommendation.objects.get().next_follow_up_on == timezone.localdate()

    services.recommendation_record_discussion(
        recommendation=recommendation, technician=technician, response="not_now", job=job
    )
    assert Recommendation.objects.get().next_follow_up_on == timezone.localdate() + timedelta(days=30)


def test_not_discussed_needs_a_reason(technician):
    with pytest.raises(ValidationError) as error:
        services.recommendation_record_discussion(
            recommendation=RecommendationFactory(), technician=technician, response="not_discussed", note=""
        )
    assert "note" in error.value.message_dict


def test_the_same_answer_twice_on_a_visit_is_kept_once(technician):
    recommendation = RecommendationFactory()
    job = JobFactory(site=recommendation.site, lead_technician=technician)

    for _ in range(2):
        services.recommendation_record_discussion(
            recommendation=recommendation, technician=technician, response="interested", job=job
        )

    assert recommendation.discussions.count() == 1


def test_a_closed_recommendation_is_not_discussed(technician):
    recommendation = RecommendationFactory(state=State.WITHDRAWN)

    with pytest.raises(ValidationError):
        services.recommendation_record_discussion(
            recommendation=recommendation, technician=technician, response="interested"
        )
