"""The mutations of messages, one module each."""

from embedcrm.graphql.messages.mutations import (
    create_message_template,
    delete_message_template,
    report_message_status,
    send_message,
    send_template_to_segment,
    set_holidays,
    update_message_template,
)

__all__ = [
    "create_message_template",
    "delete_message_template",
    "report_message_status",
    "send_message",
    "send_template_to_segment",
    "set_holidays",
    "update_message_template",
]
