"""Every URL pattern of the project, by name, and the arguments that point it at the shared world."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# The admin is Django's own; two of its pages stand for the whole site (its other views share their checks).
ADMIN_PAGES = ("admin:index", "admin:customers_customer_changelist")
MISSING_PK = 987654321


def url_names():
    """`namespace:name` of every pattern, recursively; the admin only by ADMIN_PAGES; static files never."""
    names = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                name = ":".join(filter(None, [namespace, pattern.name]))
                if namespace.split(":")[0] == "admin":
                    if name in ADMIN_PAGES:
                        names.append(name)
                elif str(pattern.pattern).startswith("static/"):
                    continue  # served by whitenoise in production, by runserver in development
                elif not pattern.name:
                    raise AssertionError(f"URL pattern {str(pattern.pattern)!r} has no name: name it")
                else:
                    names.append(name)

    walk(get_resolver().url_patterns, "")
    return names


def kwargs_for(world, name):
    """The URL kwargs of `name` in the world: each object is "technician"'s, never "other_technician"'s."""
    w = world
    by_name = {
        "customers:detail": {"pk": w.customer.pk},
        "customers:reminders_set": {"pk": w.customer.pk},
        "customers:abusive_call": {"pk": w.customer.pk},
        "customers:do_not_service_propose": {"pk": w.customer.pk},
        "customers:do_not_service_decide": {"pk": w.customer.pk, "decision_pk": w.decision.pk},
        "customers:do_not_service_lift": {"pk": w.customer.pk},
        "customers:do_not_service_booked_job": {"pk": w.customer.pk, "job_pk": w.job.pk},
        "customers:job_detail": {"pk": w.job.pk},
        "customers:import_example": {"kind": "customers"},
        **{f"customers:report_{step}": {"pk": w.report_import.pk}
           for step in ("detail", "progress", "sheet", "map", "resolve", "import")},
        "callbacks:training_done": {"pk": w.callback.pk, "item_pk": w.training_item.pk},
        "callbacks:claim": {"pk": w.claim.pk},
        "notification_open": {"pk": w.notification.pk},
        "recommendations:briefing": {"pk": w.job.pk},
        "recommendations:complete_job": {"pk": w.job.pk},
        "recommendations:raise": {"job_pk": w.job.pk},
        "recommendations:discuss": {"job_pk": w.job.pk, "pk": w.recommendation.pk},
        "recommendations:detail": {"pk": w.recommendation.pk},
        "recommendations:photo": {"pk": w.recommendation.pk},
        "recommendations:action": {"pk": w.recommendation.pk, "name": "follow-up"},
        "public:feedback": {"token": w.feedback_token},
        "public:feedback_thanks": {"token": w.feedback_token},
        "public:unsubscribe": {"token": w.unsubscribe_token},
        "public:leave_behind": {"pk": w.job.pk},
        "dashboards:scorecard": {"user_id": w.users["technician"].pk},
        "integrations:detail": {"pk": w.integration.pk},
        "api:customer": {"external_id": "C-1"},
        "api:site": {"external_id": "S-1"},
        "api:equipment_item": {"external_id": "E-1"},
        "api:job": {"external_id": "J-1"},
        "api:callback": {"pk": w.callback.pk},
        "api:recommendation": {"pk": w.recommendation.pk},
        "api:follow_up_call": {"pk": w.call.pk},
        "integrations:token_issue": {"pk": w.integration.pk},
        "integrations:token_revoke": {"pk": w.integration.pk, "token_pk": w.api_token.pk},
        "integrations:webhook_secret": {"pk": w.integration.pk},
        "integrations:events_retry": {"pk": w.integration.pk},
        "integrations:event_retry": {"pk": w.integration.pk, "event_pk": w.inbox_event.pk},
        "webhook_intake": {"pk": w.integration.pk},
        "webhooks:add": {"integration_pk": w.integration.pk},
        "webhooks:replay": {"integration_pk": w.integration.pk, "pk": w.webhook_subscription.pk,
                            "delivery_pk": w.webhook_delivery.pk},
        "texting:conversation": {"pk": w.conversation.pk},
        "texting:link": {"pk": w.conversation.pk},
        "texting:add_customer": {"pk": w.conversation.pk},
        "texting:customer": {"pk": w.customer.pk},
        "texting:consent": {"pk": w.customer.pk},
        "texting:template_edit": {"pk": w.text_template.pk},
    }
    if name in by_name:
        return by_name[name]
    if name.startswith("admin:"):
        return {}
    pattern = str(_pattern(name).pattern)
    if name.startswith("callbacks:call") and "<int:pk>" in pattern:
        return {"pk": w.call.pk}
    if name.startswith("callbacks:") and "<int:pk>" in pattern:
        return {"pk": w.callback.pk}
    if name.startswith("webhooks:"):
        return {"integration_pk": w.integration.pk, "pk": w.webhook_subscription.pk}
    if "<" in pattern:
        raise AssertionError(f"{name}: say which object of the world its arguments point at")
    return {}


def missing_kwargs(kwargs):
    """The same URL pointed at objects that do not exist (ids only; tokens and slugs are not ids)."""
    return {key: MISSING_PK if isinstance(value, int) else value for key, value in kwargs.items()}


def _pattern(name):
    namespace, _, short = name.rpartition(":")
    resolver = get_resolver()
    if namespace:
        resolver = resolver.namespace_dict[namespace][1]
    return next(p for p in resolver.url_patterns if isinstance(p, URLPattern) and p.name == short)


def url(world, name):
    return reverse(name, kwargs=kwargs_for(world, name))
