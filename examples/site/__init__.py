"""A tiny site builder that embeds embedcrm the way a real host would (see app.py)."""
