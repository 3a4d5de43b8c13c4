"""The mutations of commission, one module each."""

from embedcrm.graphql.commission.mutations import set_commission_rules

__all__ = ["set_commission_rules"]
