"""The hosted feedback page: one question, a score, an optional comment, in the shop's language."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from embedcrm.feedback.models import SCALES, FeedbackKind
from embedcrm.kit.pages import plain_page


@dataclass(frozen=True)
class Texts:
    title: str
    questions: dict[FeedbackKind, str]
    low: dict[FeedbackKind, str]
    high: dict[FeedbackKind, str]
    comment: str
    send: str
    thanks: str
    invalid: str
    close: str


TEXTS = {
    "ru": Texts(
        title="Ваш отзыв",
        questions={
            FeedbackKind.NPS: "Насколько вероятно, что вы порекомендуете «{shop}» друзьям?",
            FeedbackKind.CSAT: "Насколько вы довольны «{shop}»?",
        },
        low={FeedbackKind.NPS: "0 — точно нет", FeedbackKind.CSAT: "1 — совсем нет"},
        high={FeedbackKind.NPS: "10 — обязательно", FeedbackKind.CSAT: "5 — очень доволен"},
        comment="Комментарий (необязательно)",
        send="Отправить",
        thanks="Спасибо! Ваш ответ сохранён.",
        invalid="Ссылка на опрос недействительна.",
        close="Закрыть",
    ),
    "en": Texts(
        title="Your feedback",
        questions={
            FeedbackKind.NPS: "How likely are you to recommend {shop} to a friend?",
            FeedbackKind.CSAT: "How satisfied are you with {shop}?",
        },
        low={FeedbackKind.NPS: "0 — not at all", FeedbackKind.CSAT: "1 — not at all"},
        high={FeedbackKind.NPS: "10 — certainly", FeedbackKind.CSAT: "5 — very"},
        comment="Comment (optional)",
        send="Send",
        thanks="Thank you! Your answer is saved.",
        invalid="This feedback link is not valid.",
        close="Close",
    ),
}


def texts_of(language: str) -> Texts:
    """The texts in the shop's language; Russian for a language without its own."""
    return TEXTS.get(language, TEXTS["ru"])


def _page(language: str, body: str) -> str:
    lang = language if language in TEXTS else "ru"
    return plain_page(lang, TEXTS[lang].title, body)


def question_page(
    language: str, kind: FeedbackKind, shop: str, chosen: int | None, error: str | None = None
) -> str:
    texts = texts_of(language)
    options = "".join(
        f'<label style="margin-right:.6rem"><input type="radio" name="score" value="{n}"'
        f"{' checked' if n == chosen else ''} required> {n}</label>"
        for n in SCALES[kind]
    )
    alert = f'<p role="alert" style="color:#a00">{escape(error)}</p>' if error else ""
    return _page(
        language,
        f'{alert}<form method="post"><fieldset>'
        f"<legend>{escape(texts.questions[kind].format(shop=shop))}</legend>{options}"
        f"<p><small>{escape(texts.low[kind])} … {escape(texts.high[kind])}</small></p></fieldset>"
        f"<p><label>{escape(texts.comment)}<br>"
        '<textarea name="comment" rows="4" cols="40" maxlength="2000"></textarea></label></p>'
        f'<button type="submit">{escape(texts.send)}</button></form>',
    )


def thanks_page(language: str) -> str:
    return _page(language, f"<p>{escape(texts_of(language).thanks)}</p>")


def invalid_page(language: str) -> str:
    return _page(language, f"<p>{escape(texts_of(language).invalid)}</p>")
