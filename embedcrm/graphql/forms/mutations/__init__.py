"""The mutations of forms, one module each."""

from embedcrm.graphql.forms.mutations import delete_site_form, save_site_form

__all__ = [
    "delete_site_form",
    "save_site_form",
]
