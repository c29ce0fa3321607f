"""Point 7 of issue 9: every URL of the project x every role x the methods it accepts, against one reviewed table.

A URL pattern with no row fails the suite, so a new page cannot ship without someone writing down who may open
it. The world (tests/security/world.py) puts every object on a job of "technician"; "other_technician" has jobs
of their own but none of these, so for them every object here must answer exactly as one that does not exist.

Columns in ROLES order: anonymous, csr, technician, other_technician, manager, sales, norole (logged in, no role).
302 for anonymous is the login page; 405 is a GET to an action that only accepts POST; 400 or 200 on a POST
is the form shown again with its errors (the matrix posts empty forms: the access check comes first).
"""

import pytest
from django.urls import reverse

from callbacks.models import Callback, TrainingItem
from tests.callbacks.factories import CallbackFactory

from .urls import kwargs_for, missing_kwargs, url_names
from .world import ROLES

pytestmark = pytest.mark.django_db

# Pages anyone may open without logging in; every other URL sends an anonymous visitor to a login page.
PUBLIC = {"healthz", "login", "public:feedback", "public:feedback_thanks", "public:unsubscribe"}
# Signed by the dispatch system, not a session: a delivery without a good signature is refused 401 by anyone.
# The API reference's pages: the rest of /api/ answers a client without a token 401, not with the login page.
API_PAGES = {"api:docs", "api:redoc"}
# The webhooks (the dispatch system's, Twilio's): no login, a signature instead (401 without it); POST only.
HOOKS = {"webhook_intake", "texting_hooks:inbound", "texting_hooks:status"}
# The roles none of the world's objects belong to: for them a real object and a missing one must look alike.
OUTSIDERS = ("anonymous", "other_technician", "sales", "norole")

MATRIX = {
    #                                                anon csr  tech oth  mgr  sales none
    ("home", "GET"):                                (302, 200, 200, 200, 200, 302, 403),
    ("healthz", "GET"):                             (200, 200, 200, 200, 200, 200, 200),
    ("login", "GET"):                               (200, 200, 200, 200, 200, 200, 200),
    ("login", "POST"):                              (200, 200, 200, 200, 200, 200, 200),
    ("logout", "GET"):                              (302, 405, 405, 405, 405, 405, 405),
    ("logout", "POST"):                             (302, 302, 302, 302, 302, 302, 302),
    ("password_change", "GET"):                     (302, 200, 200, 200, 200, 200, 200),
    ("password_change", "POST"):                    (302, 200, 200, 200, 200, 200, 200),
    ("password_change_done", "GET"):                (302, 200, 200, 200, 200, 200, 200),
    ("customers:list", "GET"):                      (302, 200, 200, 200, 200, 200, 403),
    ("customers:detail", "GET"):                    (302, 200, 200, 404, 200, 200, 403),
    ("customers:reminders_set", "GET"):             (302, 405, 403, 403, 405, 403, 403),
    ("customers:reminders_set", "POST"):            (302, 302, 403, 403, 302, 403, 403),
    ("customers:abusive_call", "GET"):              (302, 405, 403, 403, 405, 403, 403),
    ("customers:abusive_call", "POST"):             (302, 302, 403, 403, 302, 403, 403),
    ("customers:do_not_service_propose", "GET"):    (302, 405, 403, 403, 405, 403, 403),
    ("customers:do_not_service_propose", "POST"):   (302, 302, 403, 403, 302, 403, 403),
    ("customers:do_not_service_decide", "GET"):     (302, 403, 403, 403, 405, 403, 403),
    ("customers:do_not_service_decide", "POST"):    (302, 403, 403, 403, 302, 403, 403),
    ("customers:do_not_service_lift", "GET"):       (302, 403, 403, 403, 405, 403, 403),
    ("customers:do_not_service_lift", "POST"):      (302, 403, 403, 403, 302, 403, 403),
    ("customers:do_not_service_booked_job", "GET"):  (302, 405, 403, 403, 405, 403, 403),
    ("customers:do_not_service_booked_job", "POST"): (302, 302, 403, 403, 302, 403, 403),
    ("customers:job_list", "GET"):                  (302, 200, 200, 200, 200, 200, 403),
    ("customers:job_detail", "GET"):                (302, 200, 200, 404, 200, 200, 403),
    ("customers:review_settings", "GET"):           (302, 200, 403, 403, 200, 403, 403),
    ("customers:review_settings", "POST"):          (302, 403, 403, 403, 200, 403, 403),
    ("customers:import", "GET"):                    (302, 403, 403, 403, 200, 403, 403),
    ("customers:import", "POST"):                   (302, 403, 403, 403, 200, 403, 403),
    ("customers:import_confirm", "GET"):            (302, 403, 403, 403, 405, 403, 403),
    ("customers:import_confirm", "POST"):           (302, 403, 403, 403, 302, 403, 403),
    ("customers:import_example", "GET"):            (302, 403, 403, 403, 200, 403, 403),
    ("customers:report_upload", "GET"):             (302, 403, 403, 403, 200, 403, 403),
    ("customers:report_upload", "POST"):            (302, 403, 403, 403, 200, 403, 403),
    ("customers:report_detail", "GET"):             (302, 403, 403, 403, 200, 403, 403),
    ("customers:report_progress", "GET"):           (302, 403, 403, 403, 200, 403, 403),
    ("customers:report_sheet", "GET"):              (302, 403, 403, 403, 405, 403, 403),
    ("customers:report_sheet", "POST"):             (302, 403, 403, 403, 302, 403, 403),
    ("customers:report_map", "GET"):                (302, 403, 403, 403, 405, 403, 403),
    ("customers:report_map", "POST"):               (302, 403, 403, 403, 302, 403, 403),
    ("customers:report_resolve", "GET"):            (302, 403, 403, 403, 405, 403, 403),
    ("customers:report_resolve", "POST"):           (302, 403, 403, 403, 302, 403, 403),
    ("customers:report_import", "GET"):             (302, 403, 403, 403, 405, 403, 403),
    ("customers:report_import", "POST"):            (302, 403, 403, 403, 302, 403, 403),
    ("callbacks:list", "GET"):                      (302, 200, 200, 200, 200, 403, 403),
    ("callbacks:mine", "GET"):                      (302, 200, 200, 200, 200, 403, 403),
    ("callbacks:export", "GET"):                    (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:new", "GET"):                       (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:new", "POST"):                      (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:repeat_check", "GET"):              (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:targets", "GET"):                   (302, 403, 403, 403, 200, 403, 403),
    ("callbacks:targets", "POST"):                  (302, 403, 403, 403, 200, 403, 403),
    ("callbacks:detail", "GET"):                    (302, 200, 200, 404, 200, 403, 403),
    ("callbacks:acknowledge", "GET"):               (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:acknowledge", "POST"):              (302, 302, 403, 404, 302, 403, 403),
    ("callbacks:schedule_revisit", "GET"):          (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:schedule_revisit", "POST"):         (302, 200, 403, 404, 200, 403, 403),
    ("callbacks:resolve", "GET"):                   (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:resolve", "POST"):                  (302, 200, 403, 404, 200, 403, 403),
    ("callbacks:close", "GET"):                     (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:close", "POST"):                    (302, 200, 403, 404, 200, 403, 403),
    ("callbacks:reopen", "GET"):                    (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:reopen", "POST"):                   (302, 200, 403, 404, 200, 403, 403),
    ("callbacks:hand_off", "GET"):                  (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:hand_off", "POST"):                 (302, 200, 403, 404, 200, 403, 403),
    ("callbacks:contact", "GET"):                   (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:contact", "POST"):                  (302, 200, 200, 404, 200, 403, 403),
    ("callbacks:step", "GET"):                      (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:step", "POST"):                     (302, 200, 200, 404, 200, 403, 403),
    ("callbacks:triage", "GET"):                    (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:classify", "GET"):                  (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:classify", "POST"):                 (302, 403, 403, 404, 200, 403, 403),
    ("callbacks:pause", "GET"):                     (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:pause", "POST"):                    (302, 200, 403, 404, 200, 403, 403),
    ("callbacks:resume", "GET"):                    (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:resume", "POST"):                   (302, 302, 403, 404, 302, 403, 403),
    ("callbacks:recall_windows", "GET"):            (302, 403, 403, 403, 200, 403, 403),
    ("callbacks:recall_windows", "POST"):           (302, 403, 403, 403, 302, 403, 403),
    ("callbacks:claims", "GET"):                    (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:claim", "GET"):                     (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:claim", "POST"):                    (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:triage_owner", "GET"):              (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:triage_owner", "POST"):             (302, 403, 403, 403, 302, 403, 403),
    ("callbacks:take", "GET"):                      (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:take", "POST"):                     (302, 302, 403, 403, 302, 403, 403),
    ("callbacks:training_done", "GET"):             (302, 405, 405, 405, 405, 405, 405),
    ("callbacks:training_done", "POST"):            (302, 403, 403, 403, 200, 403, 403),
    ("callbacks:calls", "GET"):                     (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:call_next", "GET"):                 (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_next", "POST"):                (302, 302, 403, 403, 302, 403, 403),
    ("callbacks:call_rules", "GET"):                (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:call_rules", "POST"):               (302, 403, 403, 403, 200, 403, 403),
    ("callbacks:call", "GET"):                      (302, 200, 403, 403, 200, 403, 403),
    ("callbacks:call_claim", "GET"):                (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_claim", "POST"):               (302, 302, 403, 403, 302, 403, 403),
    ("callbacks:call_release", "GET"):              (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_release", "POST"):             (302, 302, 403, 403, 302, 403, 403),
    ("callbacks:call_attempt", "GET"):              (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_attempt", "POST"):             (302, 400, 403, 403, 400, 403, 403),
    ("callbacks:call_callback", "GET"):             (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_callback", "POST"):            (302, 400, 403, 403, 400, 403, 403),
    ("callbacks:call_lead", "GET"):                 (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_lead", "POST"):                (302, 400, 403, 403, 400, 403, 403),
    ("callbacks:call_referral", "GET"):             (302, 405, 403, 403, 405, 403, 403),
    ("callbacks:call_referral", "POST"):            (302, 400, 403, 403, 400, 403, 403),
    ("notifications", "GET"):                       (302, 200, 200, 200, 200, 200, 403),
    ("notifications_read", "GET"):                  (302, 405, 405, 405, 405, 405, 403),
    ("notifications_read", "POST"):                 (302, 302, 302, 302, 302, 302, 403),
    ("notification_open", "GET"):                   (302, 405, 405, 405, 405, 405, 403),
    ("notification_open", "POST"):                  (302, 404, 302, 404, 404, 404, 403),
    ("notification_preferences", "GET"):            (302, 200, 200, 200, 200, 200, 403),
    ("notification_preferences", "POST"):           (302, 200, 200, 200, 200, 200, 403),
    ("recommendations:briefing", "GET"):            (302, 200, 200, 404, 200, 403, 403),
    ("recommendations:complete_job", "GET"):        (302, 200, 200, 404, 200, 403, 403),
    ("recommendations:complete_job", "POST"):       (302, 200, 200, 404, 200, 403, 403),
    ("recommendations:raise", "GET"):               (302, 200, 200, 404, 200, 403, 403),
    ("recommendations:raise", "POST"):              (302, 200, 200, 404, 200, 403, 403),
    ("recommendations:discuss", "GET"):             (302, 405, 405, 405, 405, 405, 405),
    ("recommendations:discuss", "POST"):            (302, 302, 302, 404, 302, 403, 403),
    ("recommendations:list", "GET"):                (302, 200, 403, 403, 200, 403, 403),
    ("recommendations:mine", "GET"):                (302, 200, 200, 200, 200, 200, 403),
    ("recommendations:intervals", "GET"):           (302, 403, 403, 403, 200, 403, 403),
    ("recommendations:intervals", "POST"):          (302, 403, 403, 403, 200, 403, 403),
    ("recommendations:detail", "GET"):              (302, 200, 200, 404, 200, 404, 403),
    ("recommendations:photo", "GET"):               (302, 200, 200, 404, 200, 404, 403),
    ("recommendations:action", "GET"):              (302, 405, 405, 405, 405, 405, 405),
    ("recommendations:action", "POST"):             (302, 400, 400, 404, 400, 404, 403),
    ("public:feedback", "GET"):                     (200, 200, 200, 200, 200, 200, 200),
    ("public:feedback", "POST"):                    (200, 200, 200, 200, 200, 200, 200),
    ("public:feedback_thanks", "GET"):              (200, 200, 200, 200, 200, 200, 200),
    ("public:unsubscribe", "GET"):                  (200, 200, 200, 200, 200, 200, 200),
    ("public:unsubscribe", "POST"):                 (200, 200, 200, 200, 200, 200, 200),
    ("public:leave_behind", "GET"):                 (302, 200, 200, 404, 200, 200, 403),
    ("dashboards:callbacks", "GET"):                (302, 403, 403, 403, 200, 403, 403),
    ("dashboards:recommendations", "GET"):          (302, 403, 403, 403, 200, 403, 403),
    ("dashboards:claims", "GET"):                   (302, 403, 403, 403, 200, 403, 403),
    ("dashboards:follow_ups", "GET"):               (302, 403, 403, 403, 200, 403, 403),
    ("dashboards:technicians", "GET"):              (302, 403, 403, 403, 200, 403, 403),
    ("dashboards:scorecard", "GET"):                (302, 403, 200, 404, 200, 403, 403),
    ("integrations:list", "GET"):                   (302, 403, 403, 403, 200, 403, 403),
    ("integrations:list", "POST"):                  (302, 403, 403, 403, 200, 403, 403),
    ("integrations:detail", "GET"):                 (302, 403, 403, 403, 200, 403, 403),
    ("integrations:token_issue", "GET"):            (302, 405, 405, 405, 405, 405, 405),
    ("integrations:token_issue", "POST"):           (302, 403, 403, 403, 200, 403, 403),
    ("integrations:token_revoke", "GET"):           (302, 405, 405, 405, 405, 405, 405),
    ("integrations:token_revoke", "POST"):          (302, 403, 403, 403, 302, 403, 403),
    ("integrations:webhook_secret", "GET"):         (302, 405, 405, 405, 405, 405, 405),
    ("integrations:webhook_secret", "POST"):        (302, 403, 403, 403, 302, 403, 403),
    ("integrations:events_retry", "GET"):           (302, 405, 405, 405, 405, 405, 405),
    ("integrations:events_retry", "POST"):          (302, 403, 403, 403, 302, 403, 403),
    ("integrations:event_retry", "GET"):            (302, 405, 405, 405, 405, 405, 405),
    ("integrations:event_retry", "POST"):           (302, 403, 403, 403, 302, 403, 403),
    ("webhook_intake", "GET"):                      (405, 405, 405, 405, 405, 405, 405),
    ("webhook_intake", "POST"):                     (401, 401, 401, 401, 401, 401, 401),
    ("webhooks:add", "GET"):                        (302, 403, 403, 403, 200, 403, 403),
    ("webhooks:add", "POST"):                       (302, 403, 403, 403, 200, 403, 403),
    ("webhooks:detail", "GET"):                     (302, 403, 403, 403, 200, 403, 403),
    ("webhooks:edit", "GET"):                       (302, 403, 403, 403, 200, 403, 403),
    ("webhooks:edit", "POST"):                      (302, 403, 403, 403, 200, 403, 403),
    ("webhooks:test", "GET"):                       (302, 405, 405, 405, 405, 405, 405),
    ("webhooks:test", "POST"):                      (302, 403, 403, 403, 302, 403, 403),
    ("webhooks:enable", "GET"):                     (302, 405, 405, 405, 405, 405, 405),
    ("webhooks:enable", "POST"):                    (302, 403, 403, 403, 302, 403, 403),
    ("webhooks:disable", "GET"):                    (302, 405, 405, 405, 405, 405, 405),
    ("webhooks:disable", "POST"):                   (302, 403, 403, 403, 302, 403, 403),
    ("webhooks:rotate", "GET"):                     (302, 405, 405, 405, 405, 405, 405),
    ("webhooks:rotate", "POST"):                    (302, 403, 403, 403, 302, 403, 403),
    ("webhooks:replay_since", "GET"):               (302, 405, 405, 405, 405, 405, 405),
    ("webhooks:replay_since", "POST"):              (302, 403, 403, 403, 302, 403, 403),
    ("webhooks:replay", "GET"):                     (302, 405, 405, 405, 405, 405, 405),
    ("webhooks:replay", "POST"):                    (302, 403, 403, 403, 302, 403, 403),
    # The API: a client without a token or a session gets 401 (not the login page); a session is a manager's only.
    ("api:root", "GET"):                            (401, 403, 403, 403, 200, 403, 403),
    ("api:root", "POST"):                           (401, 403, 403, 403, 405, 403, 403),
    ("api:customers", "GET"):                       (401, 403, 403, 403, 200, 403, 403),
    ("api:customers", "POST"):                      (401, 403, 403, 403, 405, 403, 403),
    ("api:customer", "GET"):                        (401, 403, 403, 403, 200, 403, 403),
    ("api:customer", "POST"):                       (401, 403, 403, 403, 405, 403, 403),
    ("api:sites", "GET"):                           (401, 403, 403, 403, 200, 403, 403),
    ("api:sites", "POST"):                          (401, 403, 403, 403, 405, 403, 403),
    ("api:site", "GET"):                            (401, 403, 403, 403, 200, 403, 403),
    ("api:site", "POST"):                           (401, 403, 403, 403, 405, 403, 403),
    ("api:equipment", "GET"):                       (401, 403, 403, 403, 200, 403, 403),
    ("api:equipment", "POST"):                      (401, 403, 403, 403, 405, 403, 403),
    ("api:equipment_item", "GET"):                  (401, 403, 403, 403, 200, 403, 403),
    ("api:equipment_item", "POST"):                 (401, 403, 403, 403, 405, 403, 403),
    ("api:jobs", "GET"):                            (401, 403, 403, 403, 200, 403, 403),
    ("api:jobs", "POST"):                           (401, 403, 403, 403, 405, 403, 403),
    ("api:job", "GET"):                             (401, 403, 403, 403, 200, 403, 403),
    ("api:job", "POST"):                            (401, 403, 403, 403, 405, 403, 403),
    ("api:customers_bulk", "GET"):                  (401, 403, 403, 403, 405, 403, 403),
    ("api:customers_bulk", "POST"):                 (401, 403, 403, 403, 400, 403, 403),
    ("api:sites_bulk", "GET"):                      (401, 403, 403, 403, 405, 403, 403),
    ("api:sites_bulk", "POST"):                     (401, 403, 403, 403, 400, 403, 403),
    ("api:equipment_bulk", "GET"):                  (401, 403, 403, 403, 405, 403, 403),
    ("api:equipment_bulk", "POST"):                 (401, 403, 403, 403, 400, 403, 403),
    ("api:jobs_bulk", "GET"):                       (401, 403, 403, 403, 405, 403, 403),
    ("api:jobs_bulk", "POST"):                      (401, 403, 403, 403, 400, 403, 403),
    # The schema answers tokens like the API; its two readers are pages, so an anonymous visitor logs in first.
    ("api:schema", "GET"):                          (401, 403, 403, 403, 200, 403, 403),
    ("api:schema", "POST"):                         (401, 403, 403, 403, 405, 403, 403),
    ("api:docs", "GET"):                            (302, 403, 403, 403, 200, 403, 403),
    ("api:docs", "POST"):                           (302, 403, 403, 403, 405, 403, 403),
    ("api:redoc", "GET"):                           (302, 403, 403, 403, 200, 403, 403),
    ("api:redoc", "POST"):                          (302, 403, 403, 403, 405, 403, 403),
    ("api:callbacks", "GET"):                       (401, 403, 403, 403, 200, 403, 403),
    ("api:callbacks", "POST"):                      (401, 403, 403, 403, 400, 403, 403),
    ("api:callback", "GET"):                        (401, 403, 403, 403, 200, 403, 403),
    ("api:callback", "POST"):                       (401, 403, 403, 403, 405, 403, 403),
    ("api:recommendations", "GET"):                 (401, 403, 403, 403, 200, 403, 403),
    ("api:recommendations", "POST"):                (401, 403, 403, 403, 405, 403, 403),
    ("api:recommendation", "GET"):                  (401, 403, 403, 403, 200, 403, 403),
    ("api:recommendation", "POST"):                 (401, 403, 403, 403, 405, 403, 403),
    ("api:follow_up_calls", "GET"):                 (401, 403, 403, 403, 200, 403, 403),
    ("api:follow_up_calls", "POST"):                (401, 403, 403, 403, 405, 403, 403),
    ("api:follow_up_call", "GET"):                  (401, 403, 403, 403, 200, 403, 403),
    ("api:follow_up_call", "POST"):                 (401, 403, 403, 403, 405, 403, 403),
    ("lockouts", "GET"):                            (302, 403, 403, 403, 200, 403, 403),
    ("lockout_unlock", "GET"):                      (302, 405, 405, 405, 405, 405, 405),
    ("lockout_unlock", "POST"):                     (302, 403, 403, 403, 302, 403, 403),
    # Texts: the conversation is the CSR's (the office sees every one; anyone else only their own).
    ("texting:inbox", "GET"):                       (302, 200, 200, 200, 200, 200, 403),
    ("texting:badge", "GET"):                       (302, 200, 200, 200, 200, 200, 403),
    ("texting:conversation", "GET"):                (302, 200, 404, 404, 200, 404, 403),
    ("texting:conversation", "POST"):               (302, 200, 404, 404, 200, 404, 403),
    ("texting:link", "GET"):                        (302, 405, 403, 403, 405, 403, 403),
    ("texting:link", "POST"):                       (302, 302, 403, 403, 302, 403, 403),
    ("texting:add_customer", "GET"):                (302, 405, 403, 403, 405, 403, 403),
    ("texting:add_customer", "POST"):               (302, 302, 403, 403, 302, 403, 403),
    ("texting:customer", "GET"):                    (302, 200, 403, 403, 200, 200, 403),
    ("texting:customer", "POST"):                   (302, 200, 403, 403, 200, 200, 403),
    ("texting:consent", "GET"):                     (302, 405, 403, 403, 405, 403, 403),
    ("texting:consent", "POST"):                    (302, 302, 403, 403, 302, 403, 403),
    ("texting:templates", "GET"):                   (302, 403, 403, 403, 200, 403, 403),
    ("texting:template_edit", "GET"):               (302, 403, 403, 403, 200, 403, 403),
    ("texting:template_edit", "POST"):              (302, 403, 403, 403, 200, 403, 403),
    ("texting:template_new", "GET"):                (302, 403, 403, 403, 200, 403, 403),
    ("texting:template_new", "POST"):               (302, 403, 403, 403, 200, 403, 403),
    ("texting_hooks:inbound", "GET"):               (405, 405, 405, 405, 405, 405, 405),
    ("texting_hooks:inbound", "POST"):              (401, 401, 401, 401, 401, 401, 401),
    ("texting_hooks:status", "GET"):                (405, 405, 405, 405, 405, 405, 405),
    ("texting_hooks:status", "POST"):               (401, 401, 401, 401, 401, 401, 401),
    ("admin:index", "GET"):                         (302, 302, 302, 302, 200, 302, 302),
    ("admin:customers_customer_changelist", "GET"): (302, 302, 302, 302, 200, 302, 302),
}


def _expected_cells():
    for (name, method), statuses in MATRIX.items():
        yield name, method, dict(zip(ROLES, statuses, strict=True))


def test_every_url_pattern_has_a_row_and_every_row_a_pattern():
    names = url_names()

    assert len(names) == len(set(names))
    rows = {name for name, _ in MATRIX}
    assert sorted(set(names) - rows) == [], "new URL patterns: add a reviewed row to MATRIX"
    assert sorted(rows - set(names)) == [], "rows for URL patterns that no longer exist"
    assert {name for name, method in MATRIX if method == "GET"} == rows
    assert {method for _, method in MATRIX} == {"GET", "POST"}


def test_only_the_public_pages_answer_an_anonymous_visitor():
    for name, method, expected in _expected_cells():
        if name.startswith("api:") and name not in API_PAGES:
            assert expected["anonymous"] == 401, (name, method)
        elif name in PUBLIC:
            assert expected["anonymous"] == 200, (name, method)
        elif name in HOOKS:
            assert expected["anonymous"] == (401 if method == "POST" else 405), (name, method)
        else:
            assert expected["anonymous"] == 302, (name, method)


def test_each_role_gets_the_answer_the_table_gives_from_every_url(world, visit):
    wrong = []
    for name, method, expected in _expected_cells():
        path = reverse(name, kwargs=kwargs_for(world, name))
        for role, status in expected.items():
            response = visit(role, method, path)
            if response.status_code != status:
                wrong.append(f"{method} {name} as {role}: {response.status_code}, table says {status}")
            elif role == "anonymous" and status == 302:
                assert "login" in response["Location"], (name, response["Location"])

    assert wrong == []


def test_an_object_a_user_may_not_see_answers_exactly_as_one_that_does_not_exist(world, visit):
    leaks, checked = [], 0
    for name, method, expected in _expected_cells():
        kwargs = kwargs_for(world, name)
        if not any(isinstance(value, int) for value in kwargs.values()):
            continue
        path = reverse(name, kwargs=missing_kwargs(kwargs))
        for role, status in expected.items():
            missing = visit(role, method, path).status_code
            checked += 1
            if role in OUTSIDERS and status in (302, 403, 404, 405):
                allowed = {status}
            else:
                allowed = {status, 404}  # the user sees the object; a missing one is simply not found
            if missing not in allowed:
                leaks.append(f"{method} {name} as {role}: real object {status}, missing object {missing}")

    assert leaks == []
    assert checked > 200


# Lists and search: what "other_technician" and a user with no role may open must never name the world's customer.
LISTS = ["home", "customers:list", "customers:job_list", "callbacks:list", "callbacks:mine", "recommendations:mine",
         "notifications"]


def test_lists_of_a_technician_off_the_schedule_never_show_the_customer(world, visit):
    for role in ("other_technician", "norole"):
        for name in LISTS:
            response = visit(role, "GET", reverse(name), {"q": world.customer.phone})
            assert world.customer.name not in response.content.decode(), (role, name)
    # ...while the technician on the job does see them (the check above is not vacuous).
    assert world.customer.name in visit("technician", "GET", reverse("customers:list")).content.decode()


def test_objects_each_visible_alone_are_not_found_when_paired_with_an_unrelated_one(world, visit):
    """A URL naming two objects checks that they belong together, not only that each is visible."""
    other_callback = CallbackFactory(job=world.other_job)
    others_item = TrainingItem.objects.create(
        technician=world.users["other_technician"], callback=other_callback, root_cause=Callback.RootCause.WORKMANSHIP,
        what_happened="Loose fitting.", due_on=world.training_item.due_on,
    )
    another_customer = world.other_job.customer
    crossed = [
        ("other_technician", reverse("recommendations:discuss", args=[world.other_job.pk, world.recommendation.pk]),
         {"response": "interested"}),
        ("manager", reverse("callbacks:training_done", args=[world.callback.pk, others_item.pk]), {"lesson": "x"}),
        ("manager", reverse("customers:do_not_service_decide", args=[another_customer.pk, world.decision.pk]),
         {"approve": "yes"}),
    ]
    for role, path, data in crossed:
        assert visit(role, "POST", path, data).status_code == 404, path
    others_item.refresh_from_db()
    world.decision.refresh_from_db()
    assert others_item.done_on is None and world.decision.state == "proposed"
    assert not world.recommendation.discussions.exists()
