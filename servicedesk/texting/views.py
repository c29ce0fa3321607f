"""The Texts pages: the inbox (mine / office / unanswered), a conversation, a customer's texts with their consent
and its log, the templates managers edit, and the menu's unread badge (loaded by htmx after the page, so no page's
query count grows by it)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback
from customers.models import Customer
from recommendations.models import Recommendation
from servicedesk import roles
from servicedesk.audit import setting_changes_record
from servicedesk.notifications import UNREAD_SHOWN

from . import consent, services
from .forms import ConsentForm, LinkForm, NewCustomerForm, TemplateForm, TextForm
from .models import Conversation, ConversationRead, TextConsent, TextConsentEvent, TextMessage, TextTemplate
from .surveys import fill

PAGE_SIZE = 50
MESSAGES_SHOWN = 200
TEXTERS = (roles.CSR, roles.MANAGER, roles.SALES)


@roles.role_required(*roles.ALL_ROLES)
def badge(request):
    count = Conversation.objects.unread_by(request.user).order_by()[:UNREAD_SHOWN + 1].count()
    shown = f"{UNREAD_SHOWN}+" if count > UNREAD_SHOWN else str(count) if count else ""
    return render(request, "texting/_badge.html", {"unread_texts": shown})


@roles.role_required(*roles.ALL_ROLES)
def inbox(request):
    user = request.user
    tabs = ["mine", "office", "unanswered"] if roles.is_office(user) else ["mine"]
    tab = request.GET.get("tab") if request.GET.get("tab") in tabs else "mine"
    conversations = Conversation.objects.visible_to(user)
    if tab == "mine":
        conversations = conversations.filter(owner=user)
    elif tab == "office":
        conversations = conversations.filter(owner__isnull=True)
    else:
        conversations = conversations.unanswered().order_by("awaiting_since", "pk")
    seen = ConversationRead.objects.filter(user=user, conversation=OuterRef("pk"),
                                           read_at__gte=OuterRef("last_inbound_at"))
    last = TextMessage.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    conversations = conversations.select_related("customer", "owner").annotate(
        seen=Exists(seen), last_body=Subquery(last.values("body")[:1]))
    page = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "texting/inbox.html", {"page": page, "tab": tab, "tabs": tabs})


def _get_conversation_for_user(request, pk):
    return get_object_or_404(Conversation.objects.visible_to(request.user).select_related("customer", "owner"), pk=pk)


ABOUT_MODELS = {"callback": Callback, "recommendation": Recommendation, "follow_up_call": FollowUpCall}


def _about(request, customer, form=None):
    """The callback, recommendation or follow-up call a text is sent from (its page's link carries the id, of the
    customer's own); None, with the form's error, when one is not found."""
    about = {}
    for name, model in ABOUT_MODELS.items():
        value = form.cleaned_data.get(name) if form is not None else request.GET.get(name, "")
        if form is None and not (value.isdigit() and len(value) < 19):
            continue
        if value:
            found = model.objects.filter(pk=value, customer=customer).first() if customer else None
            if found is None:
                if form is None:
                    raise Http404
                form.add_error(None, f"The {name.replace('_', ' ')} this text was to be about was not found.")
                return None
            about[name] = found
    return about


def _prefill(request, customer):
    chosen = request.GET.get("template", "")
    template = TextTemplate.objects.filter(pk=chosen).first() if chosen.isdigit() and len(chosen) < 19 else None
    if template is None:
        return ""
    job = customer.jobs.select_related("lead_technician").order_by("-scheduled_start").first() if customer else None
    return fill(template.body, customer=customer, technician=job.lead_technician if job else None,
                day=timezone.localtime(job.scheduled_start).date() if job else None)


def _send(request, *, customer, conversation):
    form = TextForm(request.POST)
    if not roles.has_role(request.user, *TEXTERS):
        raise PermissionDenied
    about = _about(request, customer, form) if form.is_valid() else None
    if about is not None:
        try:
            message = services.text_send(body=form.cleaned_data["body"], by=request.user, customer=customer,
                                         conversation=conversation,
                                         next_update_due_at=form.cleaned_data["next_update_due_at"], **about)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if message.status == TextMessage.Status.HELD:
                messages.warning(request, f"Quiet hours: the text waits until "
                                          f"{timezone.localtime(message.send_after):%a %I:%M %p} to go.")
            else:
                messages.success(request, "Text sent.")
            return None, message.conversation
    return form, conversation


def _page(request, *, customer, conversation, form=None):
    texts = []
    if conversation is not None:
        texts = list(conversation.messages.select_related("sent_by").order_by("-created_at", "-pk")[:MESSAGES_SHOWN])
        texts.reverse()
        services.conversation_mark_read(conversation=conversation, user=request.user)
    about = _about(request, customer) if request.method == "GET" else {}
    initial = {name: obj.pk for name, obj in about.items()}
    form = form or TextForm(initial={**initial, "body": _prefill(request, customer)})
    context = {
        "conversation": conversation, "customer": customer, "texts": texts, "form": form, "about": about,
        "why_not": consent.why_not_text(customer) if customer else consent.why_not_text(None),
        "templates": TextTemplate.objects.all(),
        "candidates": (list(consent.customers_with_number(conversation.phone)[:20])
                       if conversation is not None and customer is None else []),
        "can_send": roles.has_role(request.user, *TEXTERS),
    }
    if customer is not None:
        context["consent"] = TextConsent.objects.filter(customer=customer).first()
        context["consent_log"] = TextConsentEvent.objects.filter(customer=customer).select_related("by")[:50]
        context["consent_form"] = ConsentForm(initial={"mobile": context["consent"].mobile if context["consent"]
                                                       else customer.phone})
    return render(request, "texting/conversation.html", context)


@roles.role_required(*roles.ALL_ROLES)
def conversation(request, pk):
    conversation = _get_conversation_for_user(request, pk)
    form = None
    if request.method == "POST":
        form, conversation = _send(request, customer=conversation.customer, conversation=conversation)
        if form is None:
            return redirect(conversation)
    return _page(request, customer=conversation.customer, conversation=conversation, form=form)


def _get_customer_for_user(request, pk):
    if not roles.has_role(request.user, *TEXTERS):
        raise PermissionDenied
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


@roles.role_required(*TEXTERS)
def customer_texts(request, pk):
    customer = _get_customer_for_user(request, pk)
    conversation = (Conversation.objects.filter(customer=customer).select_related("customer", "owner")
                    .order_by("-last_message_at").first())
    form = None
    if request.method == "POST":
        form, conversation = _send(request, customer=customer, conversation=conversation)
        if form is None:
            return redirect("texting:customer", customer.pk)
    return _page(request, customer=customer, conversation=conversation, form=form)


@roles.role_required(*roles.OFFICE)
@require_POST
def consent_set(request, pk):
    customer = _get_customer_for_user(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        consent.text_consent_set(customer=customer, mobile=form.cleaned_data["mobile"],
                                 granted=form.cleaned_data["granted"], source=TextConsent.Source.PHONE,
                                 by=request.user, note=form.cleaned_data["note"])
        messages.success(request, "Text consent recorded." if form.cleaned_data["granted"]
                         else "Recorded: no texts to this customer.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("texting:customer", customer.pk)


@roles.role_required(*roles.OFFICE)
@require_POST
def conversation_link(request, pk):
    """Link a text from an unknown (or shared) number to a customer."""
    conversation = _get_conversation_for_user(request, pk)
    form = LinkForm(request.POST)
    customer = Customer.objects.filter(pk=form.cleaned_data["customer"]).first() if form.is_valid() else None
    if customer is None:
        messages.error(request, "No customer with that number.")
    else:
        services.conversation_customer_link(conversation=conversation, customer=customer)
        messages.success(request, f"Linked to {customer}.")
    return redirect(conversation)


@roles.role_required(*roles.OFFICE)
@require_POST
def conversation_add_customer(request, pk):
    """Add whoever texted from an unknown number as a new customer, and link the conversation to them."""
    conversation = _get_conversation_for_user(request, pk)
    if conversation.customer_id is not None:
        messages.info(request, f"These texts are already linked to {conversation.customer}.")
        return redirect(conversation)
    form = NewCustomerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "To add the customer, give their name, street address and city.")
        return redirect(conversation)
    customer = services.conversation_customer_add(conversation=conversation, **form.cleaned_data)
    messages.success(request, f"{customer} added as a customer, with {conversation.phone} as their phone. Ask them "
                              f"before texting anything but answers.")
    return redirect(conversation)


@roles.role_required(roles.MANAGER)
def template_list(request):
    return render(request, "texting/templates.html", {"templates": TextTemplate.objects.all()})


@roles.role_required(roles.MANAGER)
def template_edit(request, pk=None):
    template = get_object_or_404(TextTemplate, pk=pk) if pk else None
    before = (template.name, template.body) if template else ("", "")
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.updated_at = timezone.now()
            saved.save()
            setting_changes_record(setting="text_templates", by=request.user,
                                   changes={saved.name: (before[1], saved.body)})
        messages.success(request, f"Template “{saved.name}” saved.")
        return redirect("texting:templates")
    return render(request, "texting/template_edit.html", {"form": form, "template": template})
