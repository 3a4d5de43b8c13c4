"""Webhook delivery to the host platform: Standard Webhooks signing, retries and SSRF guard."""
