"""The mutations of the alerts to the shop, one module each."""

from embedcrm.graphql.alerts.mutations import update_alert_settings

__all__ = ["update_alert_settings"]
