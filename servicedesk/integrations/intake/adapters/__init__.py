"""One adapter per kind of integration: reads a delivery's envelope (its event id, type and the vendor's moment)
and turns a stored event into changes for the shared upsert path (customers.upserts, the API's and the import's)
and the recommendation services. Nothing here writes."""

from servicedesk.integrations.models import Integration

from . import generic, housecall_pro, servicetitan
from .base import Accept, AdapterError, Envelope, Upsert

__all__ = ["ADAPTERS", "Accept", "AdapterError", "Envelope", "Upsert", "adapter_for"]

ADAPTERS = {
    Integration.Kind.GENERIC: generic.ADAPTER,
    Integration.Kind.HOUSECALL_PRO: housecall_pro.ADAPTER,
    Integration.Kind.SERVICETITAN: servicetitan.ADAPTER,
}


def adapter_for(kind):
    return ADAPTERS[kind]
