"""What other apps add to a visit's briefing, the technician's page before knocking (recommendations' briefing).

`customers` imports no other app, and the briefing's view may not import the apps built beside it (callbacks), so
an app with something the technician must know about a visit contributes it through this registry, from its
AppConfig.ready, as the customer history does. A provider takes the job and returns BriefingBlock objects (a
template and its context) from a fixed number of queries, so the briefing's query count does not grow with what
it shows.
"""

from dataclasses import dataclass, field

_providers = []


@dataclass(frozen=True)
class BriefingBlock:
    template: str
    context: dict = field(default_factory=dict)


def register(provider):
    if provider not in _providers:
        _providers.append(provider)
    return provider


def briefing_blocks(job):
    """Every registered app's blocks for the visit, in registration order."""
    return [block for provider in _providers for block in provider(job)]
