import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, their models and forms) lives as long as the worker does. Frozen, the
# garbage collector's full collections skip it: they otherwise scan it all, a pause of ~60 ms every few dozen
# requests in a gunicorn worker (a slow request in every 20 or so on the busiest pages), ~12 ms frozen.
gc.freeze()
