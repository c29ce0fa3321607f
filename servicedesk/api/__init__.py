"""The roof's API room: the versioned REST API under /api/v1/ (Django REST framework). Serializers validate and the
services write, the same services the pages and the CSV import call. Who may call it is decided in
servicedesk/integrations/access.py (named in settings.REST_FRAMEWORK)."""
