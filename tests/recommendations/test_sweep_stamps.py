"""The recommendation sweeps stamp the follow-up date they reminded of, so a run with nothing due reads nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from recommendations import services, sweeps
from recommendations.models import Recommendation, not_yet_reminded
from servicedesk import roles
from servicedesk.models import Notification
from tests.factories import UserFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


def test_a_reminded_follow_up_date_is_stamped_and_not_read_again(sales):
    today = timezone.localdate()
    recommendation = RecommendationFactory(owner=sales, next_follow_up_on=today)

    assert sweeps.remind_follow_ups_due() == 1

    recommendation.refresh_from_db()
    assert recommendation.follow_up_reminded_for == today
    assert not Recommendation.objects.open().filter(not_yet_reminded("follow_up_reminded_for")).exists()


def test_reminders_sent_before_the_stamp_existed_are_not_sent_again(sales):
    recommendation = RecommendationFactory(owner=sales, next_follow_up_on=timezone.localdate())
    assert sweeps.remind_follow_ups_due() == 1
    Recommendation.objects.filter(pk=recommendation.pk).update(follow_up_reminded_for=None)

    assert sweeps.remind_follow_ups_due() == 0  # the unique key still holds
    assert Notification.objects.count() == 1
    recommendation.refresh_from_db()
    assert recommendation.follow_up_reminded_for == recommendation.next_follow_up_on


def test_the_new_owner_of_a_lead_passed_to_sales_is_reminded_of_the_same_date(technician, sales):
    recommendation = RecommendationFactory(raised_by=technician, owner=technician,
                                           next_follow_up_on=timezone.localdate() - timedelta(days=1))
    assert sweeps.remind_follow_ups_due() == 1

    services.recommendation_pass_to_sales(recommendation=recommendation, by=technician, to=sales)

    assert sweeps.remind_follow_ups_due() == 1
    assert Notification.objects.filter(recipient=sales, key__contains=":follow-up:").count() == 1


def test_a_stale_lead_is_escalated_to_every_manager_in_one_statement_and_stamped(sales, manager, settings):
    settings.STALE_LEAD_DAYS = 7
    other_manager = UserFactory(username="manager2", role=roles.MANAGER)
    stale = RecommendationFactory(owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=10))

    assert sweeps.escalate_stale_leads() == 2
    assert sweeps.escalate_stale_leads() == 0
    stale.refresh_from_db()
    assert stale.stale_escalated_for == stale.next_follow_up_on
    recipients = set(Notification.objects.filter(kind=Notification.Kind.ESCALATION).values_list("recipient", flat=True))
    assert recipients == {manager.pk, other_manager.pk}


def test_without_managers_nothing_is_stamped_so_the_first_manager_still_hears(sales, settings):
    settings.STALE_LEAD_DAYS = 7
    stale = RecommendationFactory(owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=10))

    assert sweeps.escalate_stale_leads() == 0
    stale.refresh_from_db()
    assert stale.stale_escalated_for is None


def test_a_moved_follow_up_date_is_reminded_afresh(sales):
    today = timezone.localdate()
    recommendation = RecommendationFactory(owner=sales, next_follow_up_on=today - timedelta(days=2))
    assert sweeps.remind_follow_ups_due() == 1

    Recommendation.objects.filter(pk=recommendation.pk).update(next_follow_up_on=today)

    assert sweeps.remind_follow_ups_due() == 1
    assert sweeps.remind_follow_ups_due() == 0
