"""The rules other apps add to completing a job.

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
"""

_rules = []


def register(rule):
    if rule not in _rules:
        _rules.append(rule)
    return rule


def rules():
    return list(_rules)
