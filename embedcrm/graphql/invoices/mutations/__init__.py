"""The mutations of invoices, one module each."""

from embedcrm.graphql.invoices.mutations import (
    cancel_invoice,
    create_invoice,
    issue_invoice,
    record_payment,
    set_payment_provider,
    set_requisites,
    update_invoice,
)

__all__ = [
    "cancel_invoice",
    "create_invoice",
    "issue_invoice",
    "record_payment",
    "set_payment_provider",
    "set_requisites",
    "update_invoice",
]
