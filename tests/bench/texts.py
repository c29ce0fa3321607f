"""The Texts inbox's figures: 100,000 texts over 20,000 conversations, a fifth of them the bench CSR's and a fifth
in the office queue, written once in two INSERT ... SELECT statements."""

from django.urls import reverse

# Importable before django.setup() (`python -m tests.bench` reads WEBHOOK_ENVIRONMENT first): models are imported
# inside the functions.

TEXTS = 100_000
CONVERSATIONS = 20_000


def prepare_texts(csr, other):
    from django.db import connection

    from servicedesk.texting.models import Conversation, TextMessage

    if TextMessage.objects.filter(provider_id__startswith="SMbench").exists():
        return
    conversations, messages = Conversation._meta.db_table, TextMessage._meta.db_table
    with connection.cursor() as cursor:
        # Phones +1999..., no real number: the bench's own; every fifth the CSR's, every fifth the office's, the
        # rest another CSR's.
        cursor.execute(
            f"INSERT INTO {conversations} (phone, customer_id, owner_id, routed_because, last_inbound_at, "
            f"last_message_at, awaiting_since, csrs_due_at, managers_due_at, escalation) "
            f"SELECT '+1999' || lpad(n::text, 7, '0'), NULL, "
            f"CASE WHEN n %% 5 = 0 THEN %s WHEN n %% 5 = 1 THEN NULL ELSE %s END, 'bench', "
            f"now() - n * interval '1 minute', now() - n * interval '1 minute', "
            f"CASE WHEN n %% 7 = 0 THEN now() - n * interval '1 minute' END, NULL, NULL, 0 "
            f"FROM generate_series(1, %s) AS n",
            [csr.pk, other.pk, CONVERSATIONS],
        )
        cursor.execute(
            f"INSERT INTO {messages} (conversation_id, direction, kind, body, status, provider_id, error_code, error, "
            f"created_at, routed_at) "
            f"SELECT c.id, CASE WHEN m %% 2 = 0 THEN 'in' ELSE 'out' END, 'message', "
            f"'Bench text ' || m || ' about the visit', CASE WHEN m %% 2 = 0 THEN 'received' ELSE 'delivered' END, "
            f"'SMbench' || c.id || '-' || m, '', '', c.last_message_at - (5 - m) * interval '1 minute', "
            f"c.last_message_at FROM {conversations} c CROSS JOIN generate_series(1, %s) AS m "
            f"WHERE c.phone LIKE '+1999%%'",
            [TEXTS // CONVERSATIONS],
        )


def text_pages(fixtures, Page):
    csr = fixtures["csr"]
    inbox = reverse("texting:inbox")
    return [
        Page(f"CSR: Texts inbox, mine ({TEXTS:,} texts)", inbox, csr, target_ms=50),
        Page(f"CSR: Texts inbox, office queue ({TEXTS:,} texts)", f"{inbox}?tab=office", csr, target_ms=50),
        Page(f"CSR: Texts inbox, unanswered ({TEXTS:,} texts)", f"{inbox}?tab=unanswered", csr, target_ms=50),
        Page("CSR: Texts unread badge", reverse("texting:badge"), csr, target_ms=50),
    ]


# The inbound webhook's figure: gunicorn signs nothing, so the bench's environment gives the app this Twilio token
# and SITE_URL, and each request is signed over that address with twilio's own RequestValidator.
WEBHOOK_TOKEN = "bench-twilio-auth-token"
WEBHOOK_SITE_URL = "http://bench.local"
WEBHOOK_ENVIRONMENT = {
    # Port 9 (discard): nothing is sent during the bench (no worker runs the routing tasks).
    "SMS_URL": f"twilio://ACbench:{WEBHOOK_TOKEN}@127.0.0.1:9/+15550104400",
    "SITE_URL": WEBHOOK_SITE_URL,
}


def webhook_p99(port, requests=200, warm_up=20):
    """p99 and median ms of POST /hooks/sms/twilio/ (signed; a new MessageSid each time, from a bench number)."""
    import http.client
    import statistics
    import time
    import uuid
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    path = reverse("texting_hooks:inbound")
    validator = RequestValidator(WEBHOOK_TOKEN)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for n in range(warm_up + requests):
        params = {"MessageSid": f"SMhook{uuid.uuid4().hex}", "AccountSid": "ACbench", "From": "+19990000005",
                  "To": "+15550104400", "Body": f"Bench reply {n}", "NumMedia": "0"}
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": validator.compute_signature(f"{WEBHOOK_SITE_URL}{path}", params)}
        started = time.perf_counter()
        connection.request("POST", path, body=urlencode(params), headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"the inbound webhook answered {response.status}")
        if n >= warm_up:
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[max(0, int(round(0.99 * len(samples))) - 1)], statistics.median(samples)
