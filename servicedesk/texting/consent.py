"""Text consent (TCPA): who may be texted, at which mobile number, recorded with its source and time, and every
change on the consent log. Withdrawn at once by STOP and its kin, restored by START; do-not-service and the
customer's opt-out of contact block texts as they block calls."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer

from .models import TextConsent, TextConsentEvent

Source = TextConsent.Source

# The carriers' and Twilio's opt-out words (CTIA): the whole message, any case, spaces around it.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP"}


def keyword(body):
    word = " ".join((body or "").split()).upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return ""


def mobile_number(raw):
    """The number in E.164 (+13125550142), or ValidationError when it is not a mobile number of PHONE_REGION (or
    one given with its country code)."""
    try:
        parsed = phonenumbers.parse((raw or "").strip(), settings.PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(f"{raw!r} is not a phone number.") from error
    kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in kinds:
        raise ValidationError(f"{raw} is not a valid mobile number for {settings.PHONE_REGION}.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164):
    try:
        return str(phonenumbers.parse(e164, settings.PHONE_REGION).national_number)
    except phonenumbers.NumberParseException:
        return ""


def customers_with_number(e164):
    """The customers this number belongs to: their texting number, phone or other phone (in any format)."""
    digits = national_digits(e164)
    match = Q(text_consent__mobile=e164)
    if digits:
        match |= Q(phone_digits=digits) | Q(alt_phone_digits=digits)
    return Customer.objects.filter(match).order_by("name", "pk")


def why_not_text(customer):
    """Why this customer may not be texted now, or "" when they may."""
    if customer is None:
        return "This number is not linked to a customer yet: link it or add the customer first."
    if customer.do_not_service:
        return f"{customer} is marked do-not-service: no texts, as no calls."
    if customer.contact_opt_out:
        return f"{customer} opted out of contact."
    consent = TextConsent.objects.filter(customer=customer).first()
    if consent is None:
        return f"{customer} has not agreed to texts: record their consent first."
    if not consent.granted:
        return (f"{customer} withdrew consent to texts ({consent.get_source_display()}, "
                f"{timezone.localtime(consent.at):%b %d %Y}).")
    return ""


def text_consent_set(*, customer, mobile, granted, source, by=None, note="", now=None):
    """Record the customer's consent (or its withdrawal) at a mobile number; a no-op when nothing changes."""
    now = now or timezone.now()
    mobile = mobile_number(mobile) if source != Source.PROVIDER and granted else mobile
    with transaction.atomic():
        consent = TextConsent.objects.select_for_update().filter(customer=customer).first()
        if consent is not None and consent.granted == granted and consent.mobile == mobile:
            return consent
        consent = consent or TextConsent(customer=customer)
        consent.mobile, consent.granted, consent.source, consent.at, consent.by = mobile, granted, source, now, by
        consent.save()
        TextConsentEvent.objects.create(customer=customer, mobile=mobile, granted=granted, source=source, at=now,
                                        by=by, note=note)
    return consent


def withdraw_for_number(*, mobile, source, note="", now=None):
    """STOP (or the provider's "unsubscribed"): every customer who consented at this number is withdrawn at once.
    Returns how many were."""
    withdrawn = 0
    for consent in TextConsent.objects.filter(mobile=mobile, granted=True).select_related("customer"):
        text_consent_set(customer=consent.customer, mobile=mobile, granted=False, source=source, note=note, now=now)
        withdrawn += 1
    return withdrawn


def restore_for_number(*, mobile, customers, now=None):
    """START: consent given by the customer's own text, for the customers the number matched."""
    restored = 0
    for customer in customers:
        text_consent_set(customer=customer, mobile=mobile, granted=True, source=Source.REPLY,
                         note="Texted START.", now=now)
        restored += 1
    return restored
