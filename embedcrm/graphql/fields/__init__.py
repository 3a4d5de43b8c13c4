"""The GraphQL of custom fields, tags and segments."""
