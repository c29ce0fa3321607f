"""Webhook intake: events a dispatch system pushes to `POST /hooks/<integration id>/`, verified on the raw body,
stored first in an inbox (unique per integration and event id) and answered at once, then processed by a task
through one adapter per kind of integration onto the same upserts the API and the CSV import use."""
