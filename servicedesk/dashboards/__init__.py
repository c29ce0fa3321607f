"""Manager dashboards and technician scorecards: read-only figures across the apps, computed in the database."""
