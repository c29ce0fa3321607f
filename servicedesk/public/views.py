"""The customer's pages (no login) and the leave-behind the technician prints for them.

Every public page answers with no-store and no-referrer: the signed
token is in the URL, and must not end up in a shared cache or in the Referer of a link to another site. The CSP
comes from the middleware, as for every page. A bad or expired link gets a friendly page with the hotline, and
never says which job it was for.
"""

from datetime import timedelta
from functools import wraps

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Subquery, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.csrf import csrf_exempt

from customers.models import CompanySettings, Customer, Feedback, Job, ReviewRequestSettings
from customers.services import customer_unsubscribe
from recommendations.models import RISK_ORDER, Recommendation
from servicedesk import roles
from servicedesk.lockouts import client_ip_address
from servicedesk.tokens import (
    LinkExpired,
    LinkInvalid,
    make_feedback_token,
    read_feedback_token,
    read_unsubscribe_token,
    token_digest,
)

from . import throttle
from .forms import FeedbackForm
from .services import feedback_submit


def public_page(view):
    """No login; never cached, never leaking the URL's token through Referer; not for search engines."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response.setdefault("Referrer-Policy", "no-referrer")
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _company_context():
    company = CompanySettings.current()
    return {"company": company, "company_name": settings.COMPANY_NAME, "hotline": company.hotline_or_company_phone}


def _link_problem(request, *, expired=False, used_up=False, status=404):
    context = {**_company_context(), "expired": expired, "used_up": used_up}
    return render(request, "public/link_problem.html", context, status=status)


def _ip_hash(request):
    return salted_hmac("servicedesk.public.ip", client_ip_address(request) or "", algorithm="sha256").hexdigest()


def _job_for_token(token):
    """(job, None) for a good token, or (None, reason) with reason "expired" or "invalid"."""
    try:
        job_id = read_feedback_token(token)
    except LinkExpired:
        return None, "expired"
    except LinkInvalid:
        return None, "invalid"
    job = Job.objects.select_related("customer", "lead_technician").filter(pk=job_id).first()
    return (job, None) if job is not None else (None, "invalid")


def feedback_url(job):
    """The absolute link printed on the leave-behind: the customer opens it from home, not on the office network."""
    return f"{settings.SITE_URL}{reverse('public:feedback', args=[make_feedback_token(job)])}"


# No CSRF check: it protects a logged-in session from forged posts, and here there is none. A forged post could only
# do what anyone holding the printed link may do, and the signed per-job token and the per-link and per-address
# limits are the authority. It also lets the page send no-referrer, under which Chromium posts with "Origin: null".
@csrf_exempt
@public_page
def feedback(request, token):
    job, problem = _job_for_token(token)
    if job is None:
        return _link_problem(request, expired=problem == "expired", status=410 if problem == "expired" else 404)
    # The caps are per job, not per printed link: each print of the leave-behind mints a new token.
    if Feedback.objects.filter(job=job).count() >= settings.FEEDBACK_PER_LINK:
        return _link_problem(request, used_up=True, status=429)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST":
        ip_hash = _ip_hash(request)
        last_hour = Feedback.objects.filter(created_at__gte=timezone.now() - timedelta(seconds=throttle.WINDOW_SECONDS))
        # Only accepted posts count: a customer's empty or mistyped post must not use up the hour.
        limits = [
            ("feedback-job", job.pk, settings.FEEDBACK_PER_LINK_PER_HOUR, lambda: last_hour.filter(job=job).count()),
            ("feedback-address", ip_hash, settings.FEEDBACK_PER_ADDRESS_PER_HOUR,
             lambda: last_hour.filter(ip_hash=ip_hash).count()),
        ]
        if any(throttle.exhausted(scope, ident, limit=limit, fallback=count) for scope, ident, limit, count in limits):
            return _link_problem(request, used_up=True, status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                feedback_submit(
                    job=job, kind=data["kind"], text=data["text"], rating=data["rating"],
                    wants_call_back=data["wants_call_back"], ip_hash=ip_hash, token_digest=token_digest(token),
                )
            except ValidationError as error:
                errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
                for field, messages in errors.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                for scope, ident, _limit, _count in limits:
                    throttle.record(scope, ident)
                return redirect(f"{reverse('public:feedback_thanks', args=[token])}?about={data['kind']}")
    technician = job.lead_technician.first_name if job.lead_technician else ""
    context = {**_company_context(), "form": form, "job": job, "technician": technician}
    return render(request, "public/feedback.html", context)


@public_page
def feedback_thanks(request, token):
    job, problem = _job_for_token(token)
    if job is None:
        return _link_problem(request, expired=problem == "expired", status=410 if problem == "expired" else 404)
    about = request.GET.get("about")
    context = {**_company_context(), "about": about if about in Feedback.Kind.values else ""}
    return render(request, "public/feedback_thanks.html", context)


@public_page
@csrf_exempt  # RFC 8058 one-click: the mail provider POSTs without our cookie; the signed token is the authority.
def unsubscribe(request, token):
    try:
        customer_id = read_unsubscribe_token(token)
    except (LinkExpired, LinkInvalid):
        return _link_problem(request)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return _link_problem(request)
    done = False
    if request.method == "POST":
        # No fallback: with the cache down an unsubscribe goes through; it only ever does what the customer asked.
        if not throttle.hit("unsubscribe-address", _ip_hash(request), limit=settings.FEEDBACK_PER_ADDRESS_PER_HOUR):
            return _link_problem(request, used_up=True, status=429)
        customer_unsubscribe(customer=customer)
        done = True
    context = {**_company_context(), "done": done or not customer.reminders_opt_in}
    return render(request, "public/unsubscribe.html", context)


# --- the leave-behind (staff) -------------------------------------------------------------------------------------


def _by_risk():
    return Case(*[When(risk=risk, then=order) for risk, order in RISK_ORDER.items()], output_field=IntegerField())


@roles.role_required(*roles.ALL_ROLES)
def leave_behind(request, pk):
    """One printed page that goes with the invoice (seed 002): who we are, what to expect, what we did and saw,
    and where to tell us how it went."""
    jobs = Job.objects.visible_to(request.user).with_related().prefetch_related("helpers").annotate(
        # Read with the job: the page's query count stays what it was.
        review_url=Subquery(ReviewRequestSettings.objects.filter(pk=1).values("review_url")[:1]),
    )
    job = get_object_or_404(jobs, pk=pk)
    recommendations = (
        Recommendation.objects.open().filter(site=job.site_id).select_related("equipment").order_by(_by_risk(), "pk")
    )
    link = feedback_url(job)
    qr = segno.make(link, error="m")
    context = {
        **_company_context(),
        "job": job,
        "recommendations": recommendations,
        "feedback_link": link,
        "qr_data_uri": qr.svg_data_uri(scale=3, border=2, dark="#000"),
        "settings_phone": settings.COMPANY_PHONE,
        "link_days": settings.FEEDBACK_LINK_DAYS,
        # The same link for every customer, whatever the visit was like (seed 002; never gated on a rating).
        "review_url": job.review_url,
    }
    return render(request, "public/leave_behind.html", context)
