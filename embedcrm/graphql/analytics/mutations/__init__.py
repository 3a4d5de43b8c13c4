"""The mutations of analytics, one module each."""

from embedcrm.graphql.analytics.mutations import (
    delete_ad_spend,
    import_ad_spend,
    record_ad_spend,
    set_lead_expected_close,
)

__all__ = [
    "delete_ad_spend",
    "import_ad_spend",
    "record_ad_spend",
    "set_lead_expected_close",
]
