"""Tenancy: workspaces, their sites and members, and the platform's API keys."""
