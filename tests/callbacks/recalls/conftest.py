# The named technicians the dashboards' tests use: the same people, so the figures read the same.
from tests.servicedesk.dashboards.conftest import alice, bob, carol, dave  # noqa: F401
