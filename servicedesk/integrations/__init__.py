"""The roof's integrations room: the dispatch systems and scripts that reach servicedesk, their API tokens, and how
a token is authenticated, scoped and rate-limited on the API (servicedesk/api/)."""
