"""GraphQL of invoices and the shop's requisites."""
