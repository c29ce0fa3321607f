"""What other apps add to the technician's briefing.

The briefing lives here, with the recommendations, and `recommendations` imports no callbacks. So an app with
something the technician must know before knocking registers a section from its AppConfig.ready, as the customer
history's providers do. A section takes the job and returns a BriefingSection (a template, and the context the
template reads as `data`) read in a fixed number of queries, whatever is open at the site, so the briefing keeps a
constant query count; or None when it has nothing to say about this job.
"""

from dataclasses import dataclass, field

_sections = []


@dataclass(frozen=True)
class BriefingSection:
    template: str
    context: dict = field(default_factory=dict)


def register(section):
    if section not in _sections:
        _sections.append(section)
    return section


def sections_for(job):
    return [section for section in (provider(job) for provider in _sections) if section is not None]
