"""The GraphQL of pipelines, their stages, and moving leads between them."""
