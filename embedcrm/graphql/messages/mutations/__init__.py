"""The mutations of messages, one module each."""

from embedcrm.graphql.messages.mutations import report_message_status, send_message

__all__ = ["report_message_status", "send_message"]
