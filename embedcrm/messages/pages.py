"""The unsubscribe pages a client reaches from a message, in the shop's language.

Opening the link only asks; the button (or a mail client's one-click POST, RFC 8058) unsubscribes,
so that a link scanner opening every address in an e-mail unsubscribes nobody.
"""

from __future__ import annotations

from html import escape

from embedcrm.kit.pages import plain_page

TEXTS = {
    "ru": {
        "title": "Отписка от сообщений",
        "ask": "Больше не присылать вам сообщения этого магазина?",
        "button": "Отписаться",
        "done": "Вы отписались. Сообщений от этого магазина больше не будет.",
        "invalid": "Ссылка для отписки недействительна.",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop receiving messages from this shop?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed. This shop will send you no more messages.",
        "invalid": "This unsubscribe link is not valid.",
    },
}


def _page(language: str, body: str) -> str:
    lang = language if language in TEXTS else "ru"
    return plain_page(lang, TEXTS[lang]["title"], body)


def ask_page(language: str) -> str:
    texts = TEXTS.get(language, TEXTS["ru"])
    # An empty action posts back to the address of the page itself.
    return _page(
        language,
        f"<p>{escape(texts['ask'])}</p>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">{escape(texts["button"])}</button></form>',
    )


def done_page(language: str) -> str:
    return _page(language, f"<p>{escape(TEXTS.get(language, TEXTS['ru'])['done'])}</p>")


def invalid_page(language: str) -> str:
    return _page(language, f"<p>{escape(TEXTS.get(language, TEXTS['ru'])['invalid'])}</p>")
