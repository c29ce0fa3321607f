"""The callback page's classification panel (callbacks/recalls), as an inclusion tag so that the callback views
need not know the recalls room: the page's context carries the bound form when a post came back with errors."""

from django import template

from callbacks.recalls.forms import classify_context, pause_context

register = template.Library()


@register.inclusion_tag("callbacks/recalls/_classify.html", takes_context=True)
def classify_panel(context, callback):
    panel = classify_context(context["request"].user, callback, context.get("classify_form"))
    return {**panel, "callback": callback, "open_form": context.get("open_form"),
            "csrf_token": context.get("csrf_token")}


@register.filter
def net_parts_cost(claim):
    """The callback's parts cost less the warranty credit received."""
    return (claim.callback.parts_cost or 0) - (claim.credit_received or 0)


@register.inclusion_tag("callbacks/recalls/_pause.html", takes_context=True)
def pause_panel(context, callback):
    panel = pause_context(context["request"].user, callback, context.get("pause_form"))
    return {**panel, "callback": callback, "open_form": context.get("open_form"),
            "csrf_token": context.get("csrf_token"), "now": context.get("now")}
