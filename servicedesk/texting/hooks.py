"""Twilio's webhooks: an incoming text, and the status of one we sent. Each is checked against X-Twilio-Signature
with the library's RequestValidator over the address Twilio was given (SITE_URL, as behind a proxy the request's
own host may differ) and refused with 401, storing nothing, when it does not match. An incoming text is stored
first and answered at once; routing it is a task's job."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import backends, services
from .inbound import inbound_store

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed(request):
    url = f"{settings.SITE_URL}{request.get_full_path()}"
    return backends.backend().validate(url, request.POST.dict(), request.headers.get("X-Twilio-Signature", ""))


@csrf_exempt
@login_not_required
@require_POST
def incoming(request):
    if not _signed(request):
        return HttpResponse("Invalid signature.", status=401, content_type="text/plain")
    sid, phone = request.POST.get("MessageSid", ""), request.POST.get("From", "")
    if not sid or not phone:
        return HttpResponse("MessageSid and From are required.", status=400, content_type="text/plain")
    inbound_store(provider_id=sid[:64], phone=phone[:20], body=request.POST.get("Body", ""))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@login_not_required
@require_POST
def status(request):
    if not _signed(request):
        return HttpResponse("Invalid signature.", status=401, content_type="text/plain")
    services.status_record(provider_id=request.POST.get("MessageSid", "")[:64],
                           status=request.POST.get("MessageStatus", ""),
                           error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)
