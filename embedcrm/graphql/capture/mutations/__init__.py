"""The mutations of capture, one module each."""

from embedcrm.graphql.capture.mutations import create_lead, release_submission, set_assignment_rules

__all__ = [
    "create_lead",
    "release_submission",
    "set_assignment_rules",
]
