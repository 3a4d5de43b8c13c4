"""The mutations of the 1C exchange, one module each."""

from embedcrm.graphql.exchange.mutations import set_one_c_exchange

__all__ = ["set_one_c_exchange"]
