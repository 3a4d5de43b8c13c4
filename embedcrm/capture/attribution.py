"""Where a lead came from: UTM tags and click ids from the context or the page URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from embedcrm.leads.service import Attribution

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
CLICK_ID_KEYS = (
    "gclid",
    "yclid",
    "fbclid",
    "msclkid",
    "ttclid",
    "ymclid",
    "dclid",
    "wbraid",
    "gbraid",
)


def _query(url: str | None) -> dict[str, str]:
    if not url:
        return {}
    try:
        return {k: v for k, v in parse_qsl(urlsplit(url).query) if v}
    except ValueError:
        return {}


def _tags(context: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(UTM tags as ``utm_*``, click ids) of one visit: its own tags win over its URL's."""
    query = _query(context.get("page_url"))
    utm: dict[str, str] = {f"utm_{k}": query[f"utm_{k}"] for k in UTM_KEYS if query.get(f"utm_{k}")}
    given = context.get("utm")
    for key, value in (dict(given) if isinstance(given, Mapping) else {}).items():
        name = key if key.startswith("utm_") else f"utm_{key}"
        if name[4:] in UTM_KEYS and value:
            utm[name] = value
    click_ids = {k: query[k] for k in CLICK_ID_KEYS if query.get(k)}
    given = context.get("click_ids")
    click_ids.update(
        {
            k: v
            for k, v in (dict(given) if isinstance(given, Mapping) else {}).items()
            if k in CLICK_ID_KEYS
        }
    )
    return utm, click_ids


def _first_touch(raw: Any) -> dict[str, Any]:
    """The visitor's first visit as sent, with its tags read the same way as the last visit's:
    ``utm`` (``{"source": …}``) and ``click_ids`` gain what its page URL carries."""
    if not isinstance(raw, Mapping) or not raw:
        return {}
    touch = dict(raw)
    utm, click_ids = _tags(touch)
    if utm:
        touch["utm"] = {name[4:]: value for name, value in utm.items()}
    if click_ids:
        touch["click_ids"] = click_ids
    return touch


def attribution_from_context(context: Mapping[str, Any]) -> Attribution:
    """The context's own tags win; the page URL's query fills what the widget did not send.
    The first touch is read by the same rule."""
    page_url = context.get("page_url")
    utm, click_ids = _tags(context)
    return Attribution(
        utm_source=utm.get("utm_source"),
        utm_medium=utm.get("utm_medium"),
        utm_campaign=utm.get("utm_campaign"),
        utm_term=utm.get("utm_term"),
        utm_content=utm.get("utm_content"),
        referrer=context.get("referrer"),
        landing_page=context.get("landing_page") or page_url,
        click_ids=click_ids,
        first_touch=_first_touch(context.get("first_touch")),
    )
