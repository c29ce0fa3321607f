from django import template

from recommendations.models import Discussion

register = template.Library()
_LABELS = dict(Discussion.Response.choices)


@register.filter
def response_label(value):
    """The customer's answer as words, for values read through annotations rather than model fields."""
    return _LABELS.get(value, "")
