"""The mutations of pipelines, one module each."""

from embedcrm.graphql.pipelines.mutations import (
    bulk_move_leads,
    create_pipeline,
    create_stage,
    delete_pipeline,
    delete_stage,
    move_lead,
    reorder_stages,
    update_pipeline,
    update_stage,
)

__all__ = [
    "bulk_move_leads",
    "create_pipeline",
    "create_stage",
    "delete_pipeline",
    "delete_stage",
    "move_lead",
    "reorder_stages",
    "update_pipeline",
    "update_stage",
]
