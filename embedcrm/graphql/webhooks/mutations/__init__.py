"""The mutations of webhooks, one module each."""

from embedcrm.graphql.webhooks.mutations import (
    create_webhook_endpoint,
    disable_webhook_endpoint,
    enable_webhook_endpoint,
    replay_failed_webhooks,
    resend_webhook_delivery,
    rotate_webhook_secret,
    send_test_webhook,
    update_webhook_endpoint,
)

__all__ = [
    "create_webhook_endpoint",
    "disable_webhook_endpoint",
    "enable_webhook_endpoint",
    "replay_failed_webhooks",
    "resend_webhook_delivery",
    "rotate_webhook_secret",
    "send_test_webhook",
    "update_webhook_endpoint",
]
