"""The GraphQL of analytics."""
