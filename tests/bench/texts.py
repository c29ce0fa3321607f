"""The Texts inbox's figures: 100,000 texts over 20,000 conversations, a fifth of them the bench CSR's and a fifth
in the office queue, written once in two INSERT ... SELECT statements."""

from django.db import connection
from django.urls import reverse

from servicedesk.texting.models import Conversation, TextMessage

TEXTS = 100_000
CONVERSATIONS = 20_000


def prepare_texts(csr, other):
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
