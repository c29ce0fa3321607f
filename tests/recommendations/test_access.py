"""Who sees what: a technician their own jobs' sites, sales what is passed to them and their own, the office all."""

import pytest
from django.urls import reverse

from tests.factories import JobFactory

from .factories import RecommendationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(technician):
    return JobFactory(lead_technician=technician)


@pytest.fixture
def others():
    return JobFactory()


def test_a_technician_briefs_and_completes_only_own_jobs(client_for, technician, mine, others):
    helping = JobFactory()
    helping.helpers.add(technician)
    client = client_for(technician)

    for name in ("recommendations:briefing", "recommendations:complete_job", "recommendations:raise"):
        assert client.get(reverse(name, args=[mine.pk])).status_code == 200
        assert client.get(reverse(name, args=[helping.pk])).status_code == 200
        assert client.get(reverse(name, args=[others.pk])).status_code == 404


def test_a_technician_cannot_record_a_discussion_on_someone_elses_job(client_for, technician, others):
    recommendation = RecommendationFactory(site=others.site)

    response = client_for(technician).post(
        reverse("recommendations:discuss", args=[others.pk, recommendation.pk]), {"response": "interested"}
    )

    assert response.status_code == 404 and not recommendation.discussions.exists()


def test_a_recommendation_at_another_site_is_not_discussed_on_this_job(client_for, technician, mine):
    elsewhere = RecommendationFactory()

    response = client_for(technician).post(
        reverse("recommendations:discuss", args=[mine.pk, elsewhere.pk]), {"response": "interested"}
    )

    assert response.status_code == 404


def test_a_technician_sees_recommendations_at_own_sites_only(client_for, technician, mine, others):
    here = RecommendationFactory(site=mine.site)
    there = RecommendationFactory(site=others.site)
    client = client_for(technician)

    assert client.get(reverse("recommendations:detail", args=[here.pk])).status_code == 200
    assert client.get(reverse("recommendations:detail", args=[there.pk])).status_code == 404
    assert client.get(reverse("recommendations:photo", args=[there.pk])).status_code == 404


def test_a_technician_who_does_not_own_it_cannot_change_its_state(client_for, technician, mine):
    recommendation = RecommendationFactory(site=mine.site)  # raised and owned by another technician

    response = client_for(technician).post(
        reverse("recommendations:action", args=[recommendation.pk, "withdraw"]), {"withdraw-note": "Nope"}
    )

    assert response.status_code == 403
    assert recommendation.events.count() == 0


def test_sales_see_only_what_is_passed_to_them_and_their_own(client_for, sales):
    passed = RecommendationFactory(owner=sales)
    own = RecommendationFactory(raised_by=sales, owner=sales)
    raised_then_passed_on = RecommendationFactory(raised_by=sales)
    other = RecommendationFactory()
    client = client_for(sales)

    for visible in (passed, own, raised_then_passed_on):
        assert client.get(reverse("recommendations:detail", args=[visible.pk])).status_code == 200
    assert client.get(reverse("recommendations:detail", args=[other.pk])).status_code == 404
    assert client.post(
        reverse("recommendations:action", args=[other.pk, "follow-up"]), {"follow-up-response": "interested"}
    ).status_code == 404


def test_sales_do_not_get_briefings_or_the_office_list(client_for, sales, mine):
    client = client_for(sales)

    assert client.get(reverse("recommendations:briefing", args=[mine.pk])).status_code == 403
    assert client.get(reverse("recommendations:complete_job", args=[mine.pk])).status_code == 403
    assert client.get(reverse("recommendations:list")).status_code == 403
    assert client.get(reverse("recommendations:mine")).status_code == 200


@pytest.mark.parametrize("role", ["csr", "manager"])
def test_the_office_sees_and_acts_on_everything(request, client_for, role, others):
    recommendation = RecommendationFactory(site=others.site)
    client = client_for(request.getfixturevalue(role))

    assert client.get(reverse("recommendations:briefing", args=[others.pk])).status_code == 200
    assert client.get(reverse("recommendations:detail", args=[recommendation.pk])).status_code == 200
    assert client.get(reverse("recommendations:list")).status_code == 200
    response = client.post(reverse("recommendations:action", args=[recommendation.pk, "done-by-others"]), {})
    assert response.status_code == 302


def test_only_a_manager_sets_follow_up_intervals(client_for, manager, csr, technician):
    assert client_for(manager).get(reverse("recommendations:intervals")).status_code == 200
    assert client_for(csr).get(reverse("recommendations:intervals")).status_code == 403
    assert client_for(technician).get(reverse("recommendations:intervals")).status_code == 403


def test_a_technician_does_not_get_the_office_list(client_for, technician):
    assert client_for(technician).get(reverse("recommendations:list")).status_code == 403


def test_an_outsider_sees_nothing(client_for, outsider, others):
    recommendation = RecommendationFactory(site=others.site, owner=outsider)
    client = client_for(outsider)

    for url in (
        reverse("recommendations:briefing", args=[others.pk]),
        reverse("recommendations:complete_job", args=[others.pk]),
        reverse("recommendations:raise", args=[others.pk]),
        reverse("recommendations:detail", args=[recommendation.pk]),
        reverse("recommendations:photo", args=[recommendation.pk]),
        reverse("recommendations:mine"),
        reverse("recommendations:list"),
        reverse("recommendations:intervals"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("recommendations:discuss", args=[others.pk, recommendation.pk]),
                       {"response": "interested"}).status_code == 403
    assert client.post(reverse("recommendations:action", args=[recommendation.pk, "withdraw"]),
                       {"withdraw-note": "x"}).status_code == 403
    assert recommendation.discussions.count() == 0 and recommendation.events.count() == 0


def test_pages_require_login(client, others):
    response = client.get(reverse("recommendations:briefing", args=[others.pk]))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
