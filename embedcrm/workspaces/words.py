"""The few names the service writes itself, in the workspace's language (``Workspace.language``).

Everything else a person reads is their own data or the host's panel's.
"""

from __future__ import annotations

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"

_WORDS: dict[str, dict[str, str]] = {
    "ru": {
        # The title of a lead the host pushes, before the person's name: "Звонок: Анна".
        "channel.CALL": "Звонок",
        "channel.CHAT": "Чат",
        "channel.SOCIAL": "Соцсеть",
        "channel.EMAIL": "Письмо",
        "channel.OTHER": "Обращение",
        # Report rows of traffic without a UTM source, and of leads nobody is assigned to.
        "direct": "прямой заход",
        "unassigned": "не назначен",
        # The first-response task of a new lead: "Ответить: <lead title>".
        "reply": "Ответить",
        # The pipeline a new workspace starts with, and its stages.
        "pipeline.default": "Продажи",
        "stage.new": "Новый",
        "stage.in_progress": "В работе",
        "stage.proposal": "Предложение",
        "stage.won": "Успешно",
        "stage.lost": "Отказ",
    },
    "en": {
        "channel.CALL": "Call",
        "channel.CHAT": "Chat",
        "channel.SOCIAL": "Social",
        "channel.EMAIL": "E-mail",
        "channel.OTHER": "Request",
        "direct": "direct",
        "unassigned": "unassigned",
        "reply": "Reply",
        "pipeline.default": "Sales",
        "stage.new": "New",
        "stage.in_progress": "In progress",
        "stage.proposal": "Proposal",
        "stage.won": "Won",
        "stage.lost": "Lost",
    },
}


def word(language: str | None, key: str) -> str:
    """``key`` in ``language``, in Russian when the language is not one of LANGUAGES."""
    return _WORDS.get(language or DEFAULT_LANGUAGE, _WORDS[DEFAULT_LANGUAGE])[key]
