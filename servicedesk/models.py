from django.conf import settings
from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """When each background process last proved it was alive (one row per process name)."""

    name = models.CharField(max_length=100, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.last_seen:%Y-%m-%d %H:%M}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a user should look at: an escalation, a hand-off to them. Written by notifications.notify."""

    class Kind(models.TextChoices):
        ESCALATION = "escalation", "Escalations to managers"
        REMINDER = "reminder", "Reminders of work due or overdue"
        BRIEFING = "briefing", "The evening briefing before my visits"
        ASSIGNMENT = "assignment", "Work handed or passed to me"

    # Whether each kind is e-mailed to someone who has not said otherwise on the preferences page.
    EMAIL_BY_DEFAULT = {Kind.ESCALATION: True, Kind.REMINDER: True, Kind.BRIEFING: True, Kind.ASSIGNMENT: False}

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ASSIGNMENT, db_default=Kind.ASSIGNMENT)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    # What the notification is about, for reminders written by the beat sweeps
    # ("callback:12:first-contact:<due>:to:3"): the unique key makes a sweep that runs twice write it once.
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The navbar counts a user's unread notifications on every page.
            models.Index(fields=["recipient", "-created_at"], name="notification_unread",
                         condition=models.Q(read_at__isnull=True)),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            # The resend sweep looks only at notifications not e-mailed yet (most are, or are not wanted by e-mail
            # and are old enough to be out of its window).
            models.Index(fields=["created_at"], name="notification_not_emailed",
                         condition=models.Q(emailed_at__isnull=True)),
        ]

    def __str__(self):
        return self.text


class NotificationPreference(models.Model):
    """A user's choice to get (or not get) e-mail for one kind of notification; no row means the kind's default."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    email = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self):
        return f"{self.user}: {self.kind} e-mail {'on' if self.email else 'off'}"


class TaskStart(models.Model):
    """How many times workers have started one Celery message: the count the bounded-retry guard checks.

    With acks_late and reject_on_worker_lost, a task whose worker dies is delivered again, and Redis keeps no
    delivery count; a message that kills its worker every time would crash workers forever. The row is written
    (committed) before the task runs and deleted when it returns or raises, so only tasks in flight, those lost
    with their worker, and those refused (refused_at) have one (servicedesk/celery.py GuardedTask).
    """

    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=255)
    starts = models.PositiveIntegerField(default=1)
    first_started_at = models.DateTimeField()
    last_started_at = models.DateTimeField()
    refused_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.task_name} {self.task_id}: started {self.starts} times"


class JobRollup(models.Model):
    """Completed jobs per week × job kind × site type × technician (as lead, or as helper): what the callback
    dashboards divide by, pre-counted so twelve months of a million jobs is a few thousand rows, not 300,000.

    Written only by servicedesk.dashboards.rollup (a beat sweep); a week is read from here only once it is listed
    in JobRollupWeek, and everything else (this week, the partial weeks at a range's ends) is counted live.
    """

    class Role(models.TextChoices):
        LEAD = "lead", "Lead technician"
        HELPER = "helper", "Helper"

    week = models.DateField(help_text="The Monday, in local time, of the week the jobs were completed.")
    kind = models.CharField(max_length=20)
    site_type = models.CharField(max_length=20)
    # No foreign key: a rollup row must never block deleting a user, and the next refresh corrects it anyway.
    technician_id = models.IntegerField(null=True, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    jobs = models.PositiveIntegerField()

    class Meta:
        # The dashboards read whole weeks, filtered by kind and site type, then group by technician.
        indexes = [models.Index(fields=["week", "kind", "site_type"], name="job_rollup_week")]

    def __str__(self):
        return f"{self.week} {self.kind} {self.site_type} {self.technician_id} {self.role}: {self.jobs}"


class JobRollupWeek(models.Model):
    """A week whose JobRollup rows are complete; written in the same transaction as the rows."""

    week = models.DateField(unique=True)
    refreshed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.week} (refreshed {self.refreshed_at:%Y-%m-%d %H:%M})"


class FollowUpRollup(models.Model):
    """Settled follow-up calls per week they fell due × job kind × site type × CSR, pre-counted for the follow-up
    dashboard (twelve months of a large contractor is 270,000 calls and 450,000 attempts; a few thousand rows here).

    A call is counted here only once it is settled (done, given up or cancelled) before the rollup's cutoff: such a
    call takes no more attempts and keeps its answers, so its row stays true. What may still come later (a review
    asked, a referral recorded after the cutoff) and the calls not yet settled are counted live. Callbacks and
    leads raised from calls are always counted live (few, on a partial index). Written only by
    servicedesk.dashboards.follow_up_rollup; a week is read from here only once it is listed in FollowUpRollupWeek.
    """

    class Part(models.TextChoices):
        CALLS = "calls", "Calls, by the CSR who finished them"
        ATTEMPTS = "attempts", "Attempts, by the CSR who made them"

    week = models.DateField(help_text="The Monday, in local time, of the week the calls fell due.")
    kind = models.CharField(max_length=20)
    site_type = models.CharField(max_length=20)
    part = models.CharField(max_length=10, choices=Part.choices)
    # No foreign key: a rollup row must never block deleting a user, and the next refresh corrects it anyway.
    csr_id = models.IntegerField(null=True, blank=True)
    cancelled = models.BooleanField(default=False, db_default=False)
    calls = models.PositiveIntegerField(default=0, db_default=0)
    made = models.PositiveIntegerField(default=0, db_default=0)
    reached = models.PositiveIntegerField(default=0, db_default=0)
    gave_up = models.PositiveIntegerField(default=0, db_default=0)
    # Customers reached who gave each score, 1 to 5: the distribution, and the exact average.
    score_1 = models.PositiveIntegerField(default=0, db_default=0)
    score_2 = models.PositiveIntegerField(default=0, db_default=0)
    score_3 = models.PositiveIntegerField(default=0, db_default=0)
    score_4 = models.PositiveIntegerField(default=0, db_default=0)
    score_5 = models.PositiveIntegerField(default=0, db_default=0)
    issues = models.PositiveIntegerField(default=0, db_default=0)
    would_refer = models.PositiveIntegerField(default=0, db_default=0)
    reviews = models.PositiveIntegerField(default=0, db_default=0)
    referrals = models.PositiveIntegerField(default=0, db_default=0)
    attempts = models.PositiveIntegerField(default=0, db_default=0)
    reached_attempts = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        indexes = [models.Index(fields=["week", "kind", "site_type"], name="follow_up_rollup_week")]

    def __str__(self):
        return f"{self.week} {self.kind} {self.site_type} {self.part} {self.csr_id}: {self.calls}"


class FollowUpRollupWeek(models.Model):
    """A week whose FollowUpRollup rows are complete up to `cutoff`; written in the same transaction as the rows.
    Every week listed has the same cutoff (each refresh moves them all)."""

    week = models.DateField(unique=True)
    cutoff = models.DateTimeField()

    def __str__(self):
        return f"{self.week} (up to {self.cutoff:%Y-%m-%d %H:%M})"


class CallbackRollup(models.Model):
    """The callback dashboard's figures (servicedesk/dashboards/callback_pass.py) of the *settled* callbacks on the
    jobs completed in one week, pre-counted: twelve months of a large contractor is ~19,000 callbacks read and
    grouped eight ways per request, and here ~200 rows a week.

    One row per grouping of the pass and its keys (`grouping` "week": a job kind and lead technician; "cause",
    "cost": a root cause; "urgency"; "fixer", "helper": a technician; "steps": one row per recovery step, its
    `expected` and `skipped`; "total"). Only jobs whose callbacks are all settled (callbacks.models.UNSETTLED) are
    counted here; a settled callback's figures change only when it is written, and every such write is logged in
    CallbackChange by database triggers, so a week is read from here only while it is listed in CallbackRollupWeek
    and has no change logged since. Everything else is counted live. Written only by
    servicedesk.dashboards.callback_rollup.
    """

    week = models.DateField(help_text="The Monday, in local time, of the week the callbacks' jobs were completed.")
    grouping = models.CharField(max_length=10)
    kind = models.CharField(max_length=20, null=True, blank=True)
    # No foreign key: a rollup row must never block deleting a user, and the next refresh corrects it anyway.
    technician_id = models.IntegerField(null=True, blank=True)
    text = models.CharField(max_length=30, null=True, blank=True)
    came_back = models.PositiveIntegerField(default=0, db_default=0)
    callbacks = models.PositiveIntegerField(default=0, db_default=0)
    unresolved = models.PositiveIntegerField(default=0, db_default=0)
    repeats = models.PositiveIntegerField(default=0, db_default=0)
    unrelated = models.PositiveIntegerField(default=0, db_default=0)
    faulty_part = models.PositiveIntegerField(default=0, db_default=0)
    contacted = models.PositiveIntegerField(default=0, db_default=0)
    contacted_on_time = models.PositiveIntegerField(default=0, db_default=0)
    to_contact_total = models.DurationField(null=True, blank=True)
    resolved = models.PositiveIntegerField(default=0, db_default=0)
    resolved_on_time = models.PositiveIntegerField(default=0, db_default=0)
    to_resolve_total = models.DurationField(null=True, blank=True)
    labour_hours = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    parts_cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    no_charge_visits = models.PositiveIntegerField(default=0, db_default=0)
    fixed = models.PositiveIntegerField(default=0, db_default=0)
    closed = models.PositiveIntegerField(default=0, db_default=0)
    expected = models.PositiveIntegerField(default=0, db_default=0)
    skipped = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        indexes = [models.Index(fields=["week", "grouping"], name="callback_rollup_week")]

    def __str__(self):
        return f"{self.week} {self.grouping} {self.kind} {self.technician_id} {self.text}: {self.callbacks}"


class CallbackRollupWeek(models.Model):
    """A week whose CallbackRollup rows are complete as of `refreshed_at`; written in the same transaction as the
    rows."""

    week = models.DateField(unique=True)
    refreshed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.week} (refreshed {self.refreshed_at:%Y-%m-%d %H:%M})"


class CallbackChange(models.Model):
    """A callback written (logged, moved on, resolved, its steps, its job's facts) or its job's helpers changed
    since the rollup last counted the week its job was completed in: that week is counted live until the next
    refresh. Written only by database triggers (servicedesk/triggers.py), whoever writes the callbacks; read and
    cleared by servicedesk.dashboards.callback_rollup."""

    job_completed_at = models.DateTimeField()

    def __str__(self):
        return f"callback on a job completed {self.job_completed_at:%Y-%m-%d %H:%M}"


class Via(models.TextChoices):
    """Through which door a change came, on every event of the audit trail (servicedesk/audit.py)."""

    PAGE = "page", "on the page"
    ADMIN = "admin", "in the admin"
    IMPORT = "import", "by the import"
    API = "api", "through the API"
    WEBHOOK = "webhook", "from the dispatch system"
    LINK = "link", "through the customer's link"
    SYSTEM = "system", "automatically"


class SettingChange(models.Model):
    """A manager's edit of a setting the process runs on (follow-up call rules, urgency targets, recommendation
    follow-up intervals): one row per value changed, before and after. Written by servicedesk.audit through the
    apps' services and admins; never edited or deleted."""

    setting = models.CharField(max_length=40)
    item = models.CharField(max_length=100)
    before = models.CharField(max_length=200, blank=True)
    after = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PAGE)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["setting", "-at"], name="setting_change_setting_at")]

    def __str__(self):
        return f"{self.setting} {self.item}: {self.before or '—'} → {self.after or '—'}"
