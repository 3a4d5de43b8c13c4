"""Examples of hosts built on embedcrm's public API."""
