"""The GraphQL of forms."""
