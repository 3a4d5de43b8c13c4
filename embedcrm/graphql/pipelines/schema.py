"""GraphQL queries and mutations of pipelines, their stages, and moving leads between them."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.permissions import OwnerOnly, WritersOnly
from embedcrm.graphql.pipelines import mutations, resolvers


@strawberry.type
class PipelineQuery:
    pipelines = strawberry.field(resolver=resolvers.pipelines)


@strawberry.type
class PipelineMutation:
    create_pipeline = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.create_pipeline.resolve
    )

    update_pipeline = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.update_pipeline.resolve,
        description="Rename, reorder (position) or make the default.",
    )

    delete_pipeline = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.delete_pipeline.resolve,
        description="Delete a pipeline; its leads move to targetStageId.",
    )

    create_stage = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.create_stage.resolve
    )

    update_stage = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.update_stage.resolve,
        description="Rename a stage, change its probability or kind.",
    )

    reorder_stages = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.reorder_stages.resolve,
        description="Put the stages of a pipeline in this order.",
    )

    delete_stage = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.delete_stage.resolve,
        description="Delete a stage; its leads move to targetStageId.",
    )

    move_lead = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.move_lead.resolve,
        description="Move a lead to a stage (of any pipeline); a WON or LOST stage closes it.",
    )

    bulk_move_leads = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.bulk_move_leads.resolve,
        description="Move many leads at once: all of them, or none.",
    )
