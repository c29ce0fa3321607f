"""The rules other apps add to completing a job, and what they do once a job is completed.

`customers` imports no other app, yet a job is completed through one function (customers.services.job_complete)
whichever door it comes through: the technician's page today, the API, webhooks or an import later. So each app
that has something to say about a completion registers a rule here from its AppConfig.ready, as the customer
history does.

A rule is called inside the completion's transaction, with the job locked and its state and summary checked:
`rule(job=job, completed_by=user, **details)`, where `details` are the keyword arguments the caller passed to
job_complete beyond job, completed_by and summary. It records what it needs and raises ValidationError to refuse
the completion, which then changes nothing.

A job completed in the dispatch system (the API, the CSV import; customers.services.jobs_complete_elsewhere) goes
through the same rules with `completed_elsewhere=True` and `completed_by=None`: what only a technician on our page
can record (the discussion of each open recommendation) cannot be asked for, and the job is marked completed
elsewhere. A rule is called once per job there too, so it should not query when it has nothing to check.

A job is also written completed where no one can be asked for details or refused: a manager correcting it in the
admin, a dispatch system's file imported or its records sent to the API. What follows from a completion whatever
the door (a callback's revisit done) is therefore an after-completion hook, called by
customers.services.jobs_completed for every job that has just become completed, on every path:
`hook(job_ids=[...], completed_by=user or None, now=datetime)`, inside the writer's transaction, a set of jobs at
once (an import completes thousands). A hook records and never refuses.
"""

_rules = []
_after = []


def register(rule):
    if rule not in _rules:
        _rules.append(rule)
    return rule


def rules():
    return list(_rules)


def register_after(hook):
    if hook not in _after:
        _after.append(hook)
    return hook


def after_hooks():
    return list(_after)
