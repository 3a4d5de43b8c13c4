"""The GraphQL API: adapters from the schema to the services, nothing more."""
