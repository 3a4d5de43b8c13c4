"""The GraphQL of one person's data: its export and its erasure."""
