"""The GraphQL of webhooks."""
