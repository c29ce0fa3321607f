"""Potential callbacks and their classification after diagnosis, recall windows by job kind, warranty part claims
(issue 23). The callback's own fields (classification) live on callbacks.models.Callback."""
