"""The GraphQL of workspaces, their sites and members, panel tokens and CRM settings."""
