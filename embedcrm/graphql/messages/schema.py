"""GraphQL queries and mutations of messages to clients."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.messages import mutations, resolvers
from embedcrm.graphql.permissions import OwnerOnly, WritersOnly


@strawberry.type
class MessageQuery:
    messages = strawberry.field(
        resolver=resolvers.messages,
        description="The messages sent or queued to one contact, newest first, with status.",
    )
    message_templates = strawberry.field(
        resolver=resolvers.message_templates,
        description="The workspace's message templates, newest first.",
    )
    preview_message = strawberry.field(
        resolver=resolvers.preview_message,
        description="A template filled for one contact (and lead), as it would be sent now.",
    )
    holidays = strawberry.field(
        resolver=resolvers.holidays,
        description="The days HOLIDAY templates greet clients on; the Russian holidays by default.",
    )
    message_variables = strawberry.field(
        resolver=resolvers.message_variables,
        description="The variables templates may use, as {{contact.first_name}}.",
    )


@strawberry.type
class MessageMutation:
    send_message = strawberry.mutation(
        permission_classes=[WritersOnly],
        resolver=mutations.send_message.resolve,
        description=(
            "A message to one contact over a channel; refused (code conflict) when the contact "
            "unsubscribed."
        ),
    )

    report_message_status = strawberry.mutation(
        resolver=mutations.report_message_status.resolve,
        description=(
            "For the host's gateway (platform key): what became of a message it was asked to "
            "send by `message.requested`."
        ),
    )

    create_message_template = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.create_message_template.resolve,
        description="A template (owner); with trigger STAGE it goes to a lead entering stageId.",
    )

    update_message_template = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.update_message_template.resolve
    )

    delete_message_template = strawberry.mutation(
        permission_classes=[OwnerOnly], resolver=mutations.delete_message_template.resolve
    )

    send_template_to_segment = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.send_template_to_segment.resolve,
        description="A one-off offer (owner) to every contact of a contact segment.",
    )

    set_holidays = strawberry.mutation(
        permission_classes=[OwnerOnly],
        resolver=mutations.set_holidays.resolve,
        description="Replace the workspace's holidays (owner); an empty list restores the default.",
    )
