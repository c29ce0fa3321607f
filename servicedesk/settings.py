"""Settings for servicedesk, read from the environment.

Every value has a zero-setup default for `make run` (SQLite and a filesystem broker under var/);
production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY, ALLOWED_HOSTS.
A malformed value fails at start-up with ImproperlyConfigured rather than at the first request.
"""

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def env_bool(name, default):
    # Parsed here rather than by env.bool, which reads any unknown word ("ture", "maybe") as False.
    value = env.str(name, default="").strip().lower()
    if not value:  # unset, or `NAME=` left empty in an env file
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {env.str(name)!r}")


def env_int(name, default):
    if not env.str(name, default="").strip():
        return default
    try:
        return env.int(name)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {env.str(name)!r}") from exc


DEBUG = env_bool("DEBUG", False)
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    # A typo such as "prod" must not quietly drop the production-only checks below.
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, got {DJANGO_ENV!r}")
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DJANGO_ENV == "production":
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Development only: a fixed, obviously insecure key so sessions survive restarts of `make run`.
    SECRET_KEY = "django-insecure-servicedesk-development-key-change-me-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin, for managers only (servicedesk/admin_site.py).
    "servicedesk.admin_site.ManagerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # PostgreSQL lookups and index types (trigram search); inert on SQLite (`make run`).
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "csp",
    "servicedesk",
    "customers",
    "recommendations",
    "callbacks",
    "servicedesk.integrations",
    "servicedesk.integrations.intake",
    "servicedesk.webhooks",
    "servicedesk.texting",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "servicedesk.privacy.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes requires: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "servicedesk.roles.context_processor",
                "servicedesk.notifications.context_processor",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'servicedesk.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # make run serves the web process and the worker from one SQLite file: wait for locks
    # instead of failing at once, and write-ahead logging so readers don't block the writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, servicedesk/lockouts.py): after AXES_FAILURE_LIMIT failed logins for one
# username from one address within the cool-off, that pair is refused until the cool-off has passed since
# its last failure, or a manager lifts it on the Lock-outs page. Another address or username is unaffected.
AUTHENTICATION_BACKENDS = [
    "servicedesk.lockouts.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 30)
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_MINUTES < 1:
    # 0 would lock everyone out on their first attempt, or never let a lock-out end.
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be at least 1")
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Password spraying: one address failing this often within the cool-off, across usernames, is paused as a whole.
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", max(20, AXES_FAILURE_LIMIT))
if LOGIN_FAILURES_PER_ADDRESS < AXES_FAILURE_LIMIT:
    raise ImproperlyConfigured("LOGIN_FAILURES_PER_ADDRESS must be at least AXES_FAILURE_LIMIT")
AXES_HANDLER = "servicedesk.lockouts.LoginThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "servicedesk.lockouts.client_ip_address"
AXES_LOCKOUT_CALLABLE = "servicedesk.lockouts.lockout_response"
# A successful login forgets that pair's earlier typos, so they don't add up to a lock-out over the day.
AXES_RESET_ON_SUCCESS = True
# No start-up banner on stdout: it would end up in every management command's output.
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone") from exc
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and `make run` serve straight from static/ without a collectstatic step.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
WHITENOISE_MANIFEST_STRICT = False

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: console in development, SMTP (EMAIL_URL=smtp+tls://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="servicedesk@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds to wait on the mail server before giving up on a message (left unsent for the resend sweep): one that
# never answers must not hold a worker, and never a page (e-mail goes from a task, servicedesk/notifications.py).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)

# Security: HTTPS settings are on unless DEBUG; behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app append to X-Forwarded-For: the client's address is read that many entries
# from the right (servicedesk.lockouts.client_ip_address); 0 trusts the header not at all and uses REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# Strict CSP: every script and stylesheet is vendored under static/, nothing inline without a nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Celery: an embedded filesystem broker by default (no server), Redis in production.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    for _folder in ("in", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Nothing is scheduled with a long countdown (due times live in the database), so a short
    # visibility timeout only bounds how long a task lost with its worker waits to be redelivered.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The dashboards' sweeps live in a cross-app room, not an app's tasks.py that autodiscovery finds: the worker (and
# `run_sweep`) import them by name, so the base never imports the roof to register them.
CELERY_IMPORTS = [
    "servicedesk.dashboards.rollup",
    "servicedesk.dashboards.follow_up_rollup",
    "servicedesk.dashboards.callback_rollup",
]

# Company identity, shown on pages the customer sees and in e-mails.
COMPANY_NAME = env.str("COMPANY_NAME", default="Northside Plumbing, Heating & Electric")
COMPANY_PHONE = env.str("COMPANY_PHONE", default="(555) 010-4400")
# The region phone numbers without a country code belong to (E.164 normalisation for search).
PHONE_REGION = env.str("PHONE_REGION", default="US")
# A callback on the same equipment (or site) within this many days of an earlier one is a repeat, escalated at once.
CALLBACK_REPEAT_WINDOW_DAYS = env_int("CALLBACK_REPEAT_WINDOW_DAYS", 90)
# A potential callback not classified (our work, warranty part, new problem) this many days after its revisit reminds
# its owner; as long again, the managers.
CALLBACK_CLASSIFY_DAYS = env_int("CALLBACK_CLASSIFY_DAYS", 2)
# The public holidays the business-hours targets skip (callbacks/business_clock.py): a country code and, optionally,
# a state or province, as the `holidays` library names them; an empty country: none.
HOLIDAYS_COUNTRY = env.str("HOLIDAYS_COUNTRY", default="US")
HOLIDAYS_STATE = env.str("HOLIDAYS_STATE", default="")

# Follow-up calls (callbacks/follow_ups). After a no answer or a voicemail the call comes back after the next gap
# in days (the last gap repeats); after FOLLOW_UP_CALL_MAX_ATTEMPTS unanswered attempts it is given up, recorded.
try:
    FOLLOW_UP_CALL_RETRY_DAYS = [int(days) for days in env.list("FOLLOW_UP_CALL_RETRY_DAYS", default=["1", "2"])]
except ValueError as exc:
    raise ImproperlyConfigured("FOLLOW_UP_CALL_RETRY_DAYS must be whole numbers of days, e.g. 1,2") from exc
FOLLOW_UP_CALL_MAX_ATTEMPTS = env_int("FOLLOW_UP_CALL_MAX_ATTEMPTS", 3)
# A CSR's claim on a call lapses after this long without an outcome, and the call returns to the queue.
FOLLOW_UP_CALL_CLAIM_MINUTES = env_int("FOLLOW_UP_CALL_CLAIM_MINUTES", 20)
# A call not made within this many days of falling due is no longer a post-visit call: not scheduled at all.
FOLLOW_UP_CALL_WINDOW_DAYS = env_int("FOLLOW_UP_CALL_WINDOW_DAYS", 14)
if (not FOLLOW_UP_CALL_RETRY_DAYS or min(FOLLOW_UP_CALL_RETRY_DAYS) < 1 or FOLLOW_UP_CALL_MAX_ATTEMPTS < 1
        or FOLLOW_UP_CALL_CLAIM_MINUTES < 1 or FOLLOW_UP_CALL_WINDOW_DAYS < 1):
    raise ImproperlyConfigured("Follow-up call retry days, attempts, claim minutes and window must be at least 1")
# A lead whose owner is this many days past its follow-up date without a word is escalated to the managers.
STALE_LEAD_DAYS = env_int("STALE_LEAD_DAYS", 7)
# Texts (servicedesk/texting/). SMS_URL picks the backend like EMAIL_URL: console:// prints them (make run),
# locmem:// keeps them in memory (tests), twilio://ACCOUNT_SID:AUTH_TOKEN@/+15550104400 sends from that number.
SMS_URL = env.str("SMS_URL", default="console://")
if not re.match(r"(console|locmem|twilio)://", SMS_URL):
    raise ImproperlyConfigured(f"SMS_URL must start with console://, locmem:// or twilio://, got "
                               f"{SMS_URL.split(':')[0]!r}")
# No text leaves in these hours of the company's time zone (TIME_ZONE): it waits until the end of them.
TEXT_QUIET_HOURS = env.str("TEXT_QUIET_HOURS", default="21:00-08:00")
if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]", TEXT_QUIET_HOURS):
    raise ImproperlyConfigured(f"TEXT_QUIET_HOURS must read like 21:00-08:00, got {TEXT_QUIET_HOURS!r}")
# A customer's reply nobody answered within this many minutes of the office's opening hours (callbacks/
# business_clock.py) goes to every CSR; after twice that, to the managers.
TEXT_ANSWER_MINUTES = env_int("TEXT_ANSWER_MINUTES", 15)
if TEXT_ANSWER_MINUTES < 1:
    raise ImproperlyConfigured("TEXT_ANSWER_MINUTES must be at least 1")
# Links in e-mails need the address the staff open the app at.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

# The customer's side (servicedesk/public/). A feedback link on a leave-behind works for FEEDBACK_LINK_DAYS; one
# job's link (however often printed) takes at most FEEDBACK_PER_LINK submissions, and FEEDBACK_PER_LINK_PER_HOUR an
# hour; each address at most FEEDBACK_PER_ADDRESS_PER_HOUR. Only accepted submissions count.
FEEDBACK_LINK_DAYS = env_int("FEEDBACK_LINK_DAYS", 90)
FEEDBACK_PER_LINK = env_int("FEEDBACK_PER_LINK", 5)
FEEDBACK_PER_LINK_PER_HOUR = env_int("FEEDBACK_PER_LINK_PER_HOUR", 3)
FEEDBACK_PER_ADDRESS_PER_HOUR = env_int("FEEDBACK_PER_ADDRESS_PER_HOUR", 20)
# Recommendation reminder e-mails to customers who opted in: every N days per risk, and never two e-mails to one
# customer within the minimum interval, whatever the risks.
RECOMMENDATION_REMINDER_DAYS = {
    "failure_likely": env_int("REMINDER_DAYS_FAILURE_LIKELY", 14),
    "should_be_done": env_int("REMINDER_DAYS_SHOULD_BE_DONE", 45),
    "advisory": env_int("REMINDER_DAYS_ADVISORY", 120),
}
RECOMMENDATION_REMINDER_MIN_DAYS = env_int("RECOMMENDATION_REMINDER_MIN_DAYS", 7)
if (min(FEEDBACK_LINK_DAYS, FEEDBACK_PER_LINK, FEEDBACK_PER_LINK_PER_HOUR, FEEDBACK_PER_ADDRESS_PER_HOUR,
        RECOMMENDATION_REMINDER_MIN_DAYS, *RECOMMENDATION_REMINDER_DAYS.values()) < 1):
    raise ImproperlyConfigured("Feedback link limits and reminder intervals must be at least 1")
# The cache holds throttle counters (the public pages' rate limits) and the callback list's rendered parts, each
# kept for one database snapshot (servicedesk/unchanged.py). Per-process memory by default; with several web
# processes set CACHE_URL=rediscache://host:6379/1 so they share one count (and one copy of each part).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# The REST API (servicedesk/api/): an integration's token (servicedesk/integrations/access.py) or a manager's
# session for the browsable API; a token's requests are counted per token in the cache above, so with several web
# processes CACHE_URL must be shared for the limit to hold.
API_TOKEN_RATE = env.str("API_TOKEN_RATE", default="600/minute")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_TOKEN_RATE):
    raise ImproperlyConfigured(f"API_TOKEN_RATE must read like 600/minute, got {API_TOKEN_RATE!r}")
# Outbound webhooks (servicedesk/webhooks/): hosts a subscription may post to over plain http and even when they
# resolve to a loopback or private address (an on-premise receiver; tests). Every other URL must be https to a
# public address.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "servicedesk.integrations.access.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["servicedesk.integrations.access.IntegrationAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["servicedesk.integrations.access.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The OpenAPI schema and its two readers, served from our own static files (drf-spectacular-sidecar): no CDN, and
# the strict CSP above holds. Open to whoever may use the API (a token, a manager).
SPECTACULAR_SETTINGS = {
    "TITLE": "servicedesk API",
    "DESCRIPTION": "Customers, sites, equipment and jobs from the dispatch system; callbacks, recommendations and "
                   "follow-up calls from the office. Send an integration's token as `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["servicedesk.integrations.access.IntegrationAccess"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Paths hold signed links and errors may quote customers: servicedesk/privacy.py keeps both out of the log.
    "filters": {"private": {"()": "servicedesk.privacy.PrivateRequestLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["private"]},
        "django.server": {"filters": ["private"]},
        # The twilio library logs every request it makes at INFO: noise, once per text.
        "twilio.http_client": {"level": "WARNING"},
    },
}

VAR_DIR.mkdir(exist_ok=True)
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
# The health check answers plain HTTP on the internal network (docker compose, load balancers).
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
