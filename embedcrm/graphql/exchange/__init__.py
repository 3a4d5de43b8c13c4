"""GraphQL of the 1C exchange."""
