"""The plain pages a client reaches from a message (unsubscribe, feedback): no script, no
styles from elsewhere, readable on a phone."""

from __future__ import annotations

from html import escape


def plain_page(language: str, title: str, body: str) -> str:
    """A whole page; ``body`` is HTML its caller escaped, ``title`` plain text."""
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;'
        f'padding:0 1rem"><h1>{escape(title)}</h1>{body}</body></html>'
    )
