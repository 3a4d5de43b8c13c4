"""The GraphQL of capture."""
