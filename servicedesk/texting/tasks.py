"""The texting sweeps, thin: one service call each. (The per-text tasks sit beside what enqueues them:
services.deliver_text, inbound.route_text.)"""

from celery import shared_task

from . import routing, services, surveys


@shared_task
def send_due_texts():
    return services.send_due_texts()


@shared_task
def escalate_unanswered_texts():
    return routing.escalate_unanswered_texts()


@shared_task
def send_post_visit_texts():
    return surveys.send_post_visit_texts()
