"""The mutations of fields, one module each."""

from embedcrm.graphql.fields.mutations import (
    create_custom_field,
    create_segment,
    delete_custom_field,
    delete_segment,
    delete_tag,
    tag_records,
    update_custom_field,
    update_segment,
)

__all__ = [
    "create_custom_field",
    "create_segment",
    "delete_custom_field",
    "delete_segment",
    "delete_tag",
    "tag_records",
    "update_custom_field",
    "update_segment",
]
