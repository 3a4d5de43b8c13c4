"""The GraphQL of importing leads from a CSV export."""
