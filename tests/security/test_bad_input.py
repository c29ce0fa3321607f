"""Point 9 of issue 9: hostile and random input to every form of the app gets a clear message and changes nothing.

Every POST endpoint of the URL matrix is posted, by a user allowed to use it, dictionaries drawn by hypothesis:
each field of its form present or missing, holding a very long string, unicode, HTML/script, SQL-looking text,
a number of the wrong kind, a date out of range, several values at once, or random text. The answer is never a
server error; a rejection shows the form again with its errors or redirects with a message, and leaves every
table as it was. Examples are bounded and derandomized, so the test is fast and the same on every run.
"""

import re

import pytest
from django.contrib.messages import constants, get_messages
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callbacks import forms as callback_forms
from callbacks.follow_ups import forms as calls_forms
from callbacks.models import CallAttempt, Callback, CallbackEvent, FollowUpCall, FollowUpRule, UrgencyTarget
from callbacks.recalls.forms import ClassifyForm, PauseForm
from customers import forms as customer_forms
from customers.models import Customer, DoNotServiceDecision, Feedback, Job, Site
from recommendations.models import Discussion, FollowUpInterval, Recommendation, RecommendationEvent
from recommendations.views import ACTIONS
from servicedesk.models import Notification, NotificationPreference

from .test_url_matrix import MATRIX
from .urls import kwargs_for

pytestmark = pytest.mark.django_db

# Derandomized examples per form (the same every run): ~90 forms × 6 posts keeps the suite within its 10 minutes as
# the forms grow; each example still draws every field from the hostile strings above.
EXAMPLES_PER_FORM = 6

HOSTILE = [
    "",
    " ",
    "x" * 20_000,
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
    "' OR 1=1 --",
    "1; DROP TABLE callbacks_callback; --",
    "%' UNION SELECT password FROM auth_user --",
    "\x00",
    "a\x00b",
    "\u202egnp.exe",
    "Zoë Ørsted-Łukasz 山田 🔥🔧",
    "\ud7ff\ufeff\u200b",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999999999999999",
    "3.14159",
    "2026-02-30",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "9999-12-31",
    "yes",
    "on",
    "1",
    "../../../../etc/passwd",
    "{{ 7*7 }}",
    "${jndi:ldap://x}",
]


def _fields(form_class, prefix=None):
    return [f"{prefix}-{name}" if prefix else name for name in form_class.base_fields]


# The fields each action posts (its form, or the few names a view reads itself). Pages with a GET form are read
# from the page instead (see _fields_on_page), so a field added to a form is fuzzed without editing this table.
ACTION_FIELDS = {
    "customers:reminders_set": ["opt_in"],
    "customers:abusive_call": _fields(customer_forms.AbusiveCallForm),
    "customers:do_not_service_propose": [*_fields(customer_forms.ProposeForm),
                                         *_fields(customer_forms.AttemptForm, "attempt-0")],
    "customers:do_not_service_booked_job": ["keep", *_fields(customer_forms.BookedJobForm)],
    "customers:do_not_service_decide": ["approve", *_fields(customer_forms.DecisionForm)],
    "customers:do_not_service_lift": _fields(customer_forms.LiftForm),
    "customers:import_confirm": _fields(customer_forms.ImportConfirmForm),
    "callbacks:acknowledge": _fields(callback_forms.NoteForm),
    "callbacks:schedule_revisit": _fields(callback_forms.RevisitForm),
    "callbacks:resolve": _fields(callback_forms.ResolveForm),
    "callbacks:close": _fields(callback_forms.CloseForm),
    "callbacks:reopen": _fields(callback_forms.ReopenForm),
    "callbacks:hand_off": _fields(callback_forms.HandOffForm),
    "callbacks:contact": _fields(callback_forms.ContactForm),
    "callbacks:step": _fields(callback_forms.StepForm),
    "callbacks:training_done": _fields(callback_forms.TrainingDoneForm),
    "callbacks:triage_owner": _fields(callback_forms.TriageOwnerForm),
    "callbacks:call_attempt": _fields(calls_forms.AttemptForm),
    "callbacks:call_callback": _fields(calls_forms.CallbackFromCallForm),
    "callbacks:call_lead": _fields(calls_forms.LeadForm),
    "callbacks:call_referral": _fields(calls_forms.ReferralForm),
    "recommendations:discuss": ["response", "note", "next"],
    "lockout_unlock": ["username", "ip_address"],
    "integrations:token_issue": ["label", "scope"],
    "integrations:webhook_secret": ["secret"],
    "webhooks:replay_since": ["since"],
    "texting:consent": ["mobile", "granted", "note"],
    "texting:link": ["customer"],
    "texting:add_customer": ["name", "street", "city"],
    "callbacks:classify": _fields(ClassifyForm),
    "callbacks:pause": _fields(PauseForm),
}
# Buttons with no input: only "never a server error" applies (what they answer is the URL matrix's business).
NO_INPUT = {"logout", "callbacks:call_next", "callbacks:call_claim", "callbacks:call_release", "notifications_read",
            "notification_open", "public:unsubscribe", "callbacks:take", "integrations:token_revoke",
            "integrations:events_retry", "integrations:event_retry", "webhook_intake",
            # The world's jobs report was imported last week: each step answers by going back to its page.
            "customers:report_sheet", "customers:report_map", "customers:report_resolve", "customers:report_import",
            "webhooks:test", "webhooks:enable", "webhooks:disable", "webhooks:rotate", "webhooks:replay",
            "callbacks:resume"}
# Who posts each form: the role that uses it at work; the office for the rest; no one logged in for public pages.
POSTED_BY = {
    "recommendations:complete_job": "technician",
    "recommendations:raise": "technician",
    "recommendations:discuss": "technician",
    "recommendations:action": "technician",
    "callbacks:contact": "technician",
    "callbacks:step": "technician",
    "notification_open": "technician",  # their own notification
}
ERROR_MARKS = ("invalid-feedback", "alert-danger", "errorlist", "alert-warning", "is-invalid")
# What the tables hold and the states of the world's objects: a rejected post leaves all of it as it was.
COUNTED = [Customer, Site, Job, Callback, CallbackEvent, FollowUpCall, CallAttempt, FollowUpRule, UrgencyTarget,
           Recommendation, RecommendationEvent, Discussion, FollowUpInterval, DoNotServiceDecision, Feedback,
           Notification, NotificationPreference]


def _fingerprint(world):
    """Every count and state above, in one query (it is taken twice for each of some 900 posts)."""
    def state(model, pk, *fields):
        return f"(SELECT ROW({', '.join(fields)})::text FROM {model._meta.db_table} WHERE id = {int(pk)})"

    columns = [f"(SELECT COUNT(*) FROM {model._meta.db_table})" for model in COUNTED] + [
        state(Callback, world.callback.pk, "state"),
        state(Recommendation, world.recommendation.pk, "state"),
        state(FollowUpCall, world.call.pk, "state"),
        state(Customer, world.customer.pk, "reminders_opt_in", "do_not_service"),
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}")
        return cursor.fetchone()


def _fields_on_page(html):
    names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', html)
    return sorted({name for name in names if name != "csrfmiddlewaretoken"})


def _endpoints():
    """(url name, action name or None, role) for every POST row of the matrix; one per action of a recommendation."""
    for name, method in MATRIX:
        # The API takes JSON, not forms: its bad input is the API's tests' (tests/servicedesk/api/).
        # Twilio's webhooks answer 401 to anything unsigned: theirs are in tests/servicedesk/texting/.
        if method != "POST" or name.startswith(("api:", "texting_hooks:")):
            continue
        role = POSTED_BY.get(name)
        if role is None:
            statuses = dict(zip(("anonymous", "csr", "technician", "other_technician", "manager"),
                                MATRIX[name, method], strict=False))
            role = next(r for r in ("csr", "manager", "anonymous") if statuses[r] not in (403, 404) and
                        not (r == "anonymous" and statuses[r] == 302))
        if name == "recommendations:action":
            for action in ACTIONS:
                yield pytest.param(name, action, role, id=f"{name}:{action}")
        else:
            yield pytest.param(name, None, role, id=name)


def _values(world):
    people = [str(user.pk) for user in world.users.values() if user is not None]
    objects = [str(pk) for pk in (world.job.pk, world.original_job.pk, world.customer.pk, world.callback.pk)]
    plain = st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(people + objects),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )
    return st.one_of(plain, st.lists(plain, min_size=2, max_size=3))


@pytest.mark.parametrize(("name", "action", "role"), list(_endpoints()))
def test_hostile_input_to_every_form_gets_a_message_and_changes_nothing(world, visit, name, action, role):
    kwargs = kwargs_for(world, name)
    if action:
        kwargs = {**kwargs, "name": action}
        form_class = ACTIONS[action][0]
        fields = _fields(form_class, prefix=action)
    elif name in ACTION_FIELDS:
        fields = ACTION_FIELDS[name]
    elif name in NO_INPUT:
        fields = ["x"]
    else:
        page = visit(role, "GET", reverse(name, kwargs=kwargs))
        assert page.status_code == 200, name
        fields = _fields_on_page(page.content.decode())
        assert fields, f"{name}: no form fields found on its page"
    path = reverse(name, kwargs=kwargs)
    values = _values(world)
    # The token a browser always sends: an empty body never gets past the CSRF check to the view.
    payloads = st.fixed_dictionaries(
        {"csrfmiddlewaretoken": st.just("x")}, optional={field: values for field in fields + ["unexpected"]}
    )
    posted = []

    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=payloads)
    def post(data):
        posted.append(data)
        outcome = {}

        def inspect(response):
            outcome["after"] = _fingerprint(world)

        before = _fingerprint(world)
        response = visit(role, "POST", path, data, inspect=inspect)
        assert response.status_code < 500, (name, data)
        if name in NO_INPUT:
            return
        if response.status_code == 302:
            levels = [message.level for message in get_messages(response.wsgi_request)]
            if name in ("public:feedback", "login"):
                return  # the thanks page, or the next page after logging in
            assert levels, f"{name}: redirected without a message for {data!r}"
            rejected = max(levels) >= constants.WARNING
        else:
            assert response.status_code in (200, 400, 429), (name, response.status_code)
            text = response.content.decode()
            assert any(mark in text for mark in ERROR_MARKS), f"{name}: no message on the page for {data!r}"
            rejected = True
        if rejected:
            assert outcome["after"] == before, f"{name}: a rejected post changed something: {data!r}"

    post()
    assert len(posted) >= EXAMPLES_PER_FORM // 2
