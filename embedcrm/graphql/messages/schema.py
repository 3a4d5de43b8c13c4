"""GraphQL queries and mutations of messages to clients."""

from __future__ import annotations

import strawberry

from embedcrm.graphql.messages import mutations, resolvers


@strawberry.type
class MessageQuery:
    messages = strawberry.field(
        resolver=resolvers.messages,
        description="The messages sent or queued to one contact, newest first, with status.",
    )


@strawberry.type
class MessageMutation:
    send_message = strawberry.mutation(
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
