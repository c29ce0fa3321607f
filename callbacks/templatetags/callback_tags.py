"""The callback tables' rows and the list's filter options, rendered in Python as Django's admin renders its result
rows (`items_for_result`).

The callback list is the CSR's most used page and re-renders on every filter change. Through the template engine
each value costs some thirty calls: 25 rows of a dozen values, and a technician select of forty options, cost
several times the rest of the page (issue 8: its throughput must be at least half of a bare page's).
"""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince, timeuntil

from callbacks.models import Callback, Urgency

register = template.Library()

_URGENCIES = dict(Urgency.choices)
_STATES = dict(Callback.State.choices)
_ROW = (
    '<tr{}>\n'
    '      <td><a href="{}">#{}</a>{}\n'
    '        <div class="small text-body-secondary">{}</div></td>\n'
    '      <td>{}<div class="small text-body-secondary">{}</div></td>\n'
    '      <td>{}</td>\n'
    '      <td>{}</td>\n'
    '      <td>{}</td>\n'
    '      <td>{}</td>\n'
    '      <td>{}</td>\n'
    '      <td>{}</td>\n'
    '    </tr>'
)
_EMPTY = '<tr><td colspan="8" class="text-body-secondary">{}</td></tr>'
_REPEAT = mark_safe(' <span class="badge text-bg-danger">repeat</span>')
_SELECTED = mark_safe(" selected")
_OVERDUE = mark_safe(' class="table-danger"')


def _name(user, default="—"):
    return (user.get_full_name() if user is not None else "") or default


def _due(clock):
    if clock is None:
        return "—"
    if clock.overdue:
        return format_html("{}: <strong>overdue {}</strong>", clock.label, timesince(clock.due_at, clock.now))
    return format_html("{}: in {}", clock.label, timeuntil(clock.due_at, clock.now))


def _fixing(job):
    if job is None:
        return "—"
    starts = date_format(timezone.localtime(job.scheduled_start), "M j g:i A")
    return format_html("{}, {}", _name(job.lead_technician), starts)


def _row(callback, now):
    clock = callback.clock(now)
    owner = callback.assigned_to
    return format_html(
        _ROW,
        _OVERDUE if clock and clock.overdue else "",
        reverse("callbacks:detail", args=[callback.pk]),
        callback.pk,
        _REPEAT if callback.is_repeat else "",
        Truncator(callback.problem).words(10, truncate=" …"),
        callback.customer.name,
        callback.site.street,
        _URGENCIES.get(callback.urgency, callback.urgency),
        _STATES.get(callback.state, callback.state),
        _due(clock),
        _name(callback.job.lead_technician),
        _fixing(callback.revisit_job),
        _name(owner, default=owner.username if owner is not None else "") or "—",
    )


@register.simple_tag
def callback_rows(callbacks, empty_text=""):
    """The <tr>s of callbacks/_callback_rows.html's table, overdue ones marked; `callbacks` as `for_rows()` and
    `with_jobs_and_people()` give them, or with their jobs' lead technicians and owner joined."""
    now = timezone.now()
    rows = [_row(callback, now) for callback in callbacks]
    if not rows:
        return format_html(_EMPTY, empty_text or "No callbacks.")
    return mark_safe("\n".join(rows))


@register.simple_tag
def select_options(field):
    """The <option>s of a bound select field, selected as Django's Select widget selects them: the first whose
    value, as text, is the field's."""
    widget = field.field.widget
    chosen = set(widget.format_value(field.value()))
    options = []
    for value, label in widget.choices:
        selected = str(value) in chosen
        if selected:
            chosen = set()
        options.append((value, _SELECTED if selected else "", label))
    return format_html_join("\n", '<option value="{}"{}>{}</option>', options)
