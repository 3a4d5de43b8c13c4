"""GraphQL types of the 1C exchange; the password is never answered."""

from __future__ import annotations

from datetime import datetime

import strawberry

from embedcrm.exchange.models import OneCExchange as OneCExchangeRow


@strawberry.type(description="The 1C exchange of a workspace («обмен с сайтом»).")
class OneCExchange:
    login: str
    exchange_url: str = strawberry.field(
        description="The site address to give 1C (its password is the one set)."
    )
    last_query_at: datetime | None = strawberry.field(
        description="When 1C last asked for the orders."
    )

    @classmethod
    def of(cls, row: OneCExchangeRow, url: str) -> OneCExchange:
        return cls(login=row.login, exchange_url=url, last_query_at=row.last_query_at)
