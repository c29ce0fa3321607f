"""Outbound webhooks (the roof): subscriptions of an integration, the transactional outbox, signed delivery."""
