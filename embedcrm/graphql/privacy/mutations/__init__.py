"""The mutations of privacy, one module each."""

from embedcrm.graphql.privacy.mutations import erase_person

__all__ = [
    "erase_person",
]
