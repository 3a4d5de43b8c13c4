"""A tiny site builder: what a host platform does with embedcrm, and nothing more.

It talks to embedcrm only through the public contract (docs/contract.md): GraphQL over HTTP with a
platform key, the widget's embed snippet, panel tokens, and signed webhooks. Its own data is one
JSON file; it never opens embedcrm's database.

- ``/``                    an owner creates a site from a template (createWorkspace, createSite,
                           saveSiteForm, createWebhookEndpoint)
- ``/sites/{slug}``        the generated page: the embed snippet, a bound and a rendered form
- ``/owner/{slug}``        the owner's panel: embedcrm's <embedcrm-panel> in the builder's admin
- ``/webhooks``            the events the builder received and verified

The owner's page loads embedcrm's panel script and calls ``embedcrm.panel.init`` with a
``fetchToken`` that asks this builder's backend (``POST /owner/{slug}/token``). The backend checks
who is asking (here: anyone who can open the page, as this demo has no login) and mints a
short-lived panel token with issuePanelToken; the panel then talks to embedcrm directly, with
that bearer token and CORS, and asks for a new token before this one expires. The token is scoped
to one workspace, member and role, and may be narrowed to some components.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

# The catalog of event names is public; this leaf module of embedcrm imports nothing else.
from embedcrm.events import EVENT_TYPES as CATALOG

log = logging.getLogger("examples.site")

STATIC = Path(__file__).parent / "static"
# The funnel events the builder shows on its webhook page: those of leads, contacts, tasks and
# form submissions, picked from the catalog so that a new one is shown without editing this file.
FUNNEL = ("lead.", "contact.", "task.", "submission.")
EVENT_TYPES = [name for name in CATALOG if name.startswith(FUNNEL)]
KEPT_EVENTS = 200

CREATE_WORKSPACE = """mutation($name: String!, $externalId: String) {
  createWorkspace(input: {name: $name, externalId: $externalId}) {
    workspace { id } userErrors { field message code } } }"""
CREATE_SITE = """mutation($ws: ID!, $name: String!, $domains: [String!]!, $language: String!,
    $externalId: String) {
  createSite(input: {workspaceId: $ws, name: $name, domains: $domains, language: $language,
    externalId: $externalId}) {
    site { id publicKey embedSnippet } userErrors { field message code } } }"""
SAVE_FORM = """mutation($input: SaveSiteFormInput!) { saveSiteForm(input: $input) {
  siteForm { key } userErrors { field message code } } }"""
CREATE_ENDPOINT = """mutation($url: String!, $types: [String!]!, $ws: ID) {
  createWebhookEndpoint(input: {url: $url, eventTypes: $types, workspaceId: $ws}) {
    endpoint { id secret } userErrors { field message code } } }"""
SNIPPET = """query($id: ID!) { node(id: $id) { ... on Site { embedSnippet } } }"""
# The snippet names the widget's current version; re-read now and then so that pages follow an
# upgrade of embedcrm, whose old versioned paths are no longer served.
SNIPPET_SECONDS = 60
PANEL_SCRIPT = "query { panelScript { src integrity } }"
ISSUE_TOKEN = """mutation($ws: ID!, $ext: String!, $name: String!, $email: String) {
  issuePanelToken(input: {workspaceId: $ws, role: OWNER, ttlSeconds: 900,
    member: {externalId: $ext, name: $name, email: $email}}) {
    token expiresAt userErrors { field message code } } }"""


@dataclass(frozen=True)
class Template:
    title: str
    tagline: str
    accent: str
    form: dict[str, Any]


CALLBACK_FIELDS = [
    {"name": "name", "label": {"ru": "Имя", "en": "Name"}, "required": True},
    {"name": "phone", "type": "TEL", "label": {"ru": "Телефон", "en": "Phone"}, "required": True},
]
TEMPLATES = {
    "flowers": Template(
        title="Цветочная лавка",
        tagline="Букеты с доставкой за два часа",
        accent="#be185d",
        form={
            "key": "callback",
            "display": "INLINE",
            "title": {"ru": "Подберём букет", "en": "We will pick a bouquet"},
            "buttonLabel": {"ru": "Перезвоните мне", "en": "Call me back"},
            "successMessage": {"ru": "Спасибо! Флорист позвонит вам.", "en": "Thank you!"},
            "consentText": {
                "ru": "Согласен на обработку персональных данных",
                "en": "I agree to the processing of my personal data",
            },
            "fields": [
                *CALLBACK_FIELDS,
                {
                    "name": "occasion",
                    "type": "SELECT",
                    "label": {"ru": "Повод", "en": "Occasion"},
                    "options": [
                        {"value": "birthday", "label": {"ru": "День рождения", "en": "Birthday"}},
                        {"value": "wedding", "label": {"ru": "Свадьба", "en": "Wedding"}},
                        {"value": "just-because", "label": {"ru": "Просто так", "en": "Just so"}},
                    ],
                },
                {"name": "delivery_date", "type": "DATE", "label": {"ru": "Дата доставки"}},
            ],
        },
    ),
    "bakery": Template(
        title="Пекарня",
        tagline="Торты на заказ и свежий хлеб каждое утро",
        accent="#b45309",
        form={
            "key": "callback",
            "display": "FLOATING",
            "title": {"ru": "Заказать торт", "en": "Order a cake"},
            "buttonLabel": {"ru": "Отправить заказ", "en": "Send the order"},
            "successMessage": {"ru": "Заказ принят, перезвоним!", "en": "Order received!"},
            "fields": [
                *CALLBACK_FIELDS,
                {"name": "guests", "type": "NUMBER", "label": {"ru": "Гостей", "en": "Guests"}},
            ],
        },
    ),
}


class CrmError(Exception):
    """embedcrm answered with errors or userErrors."""


@dataclass
class Crm:
    """embedcrm's GraphQL over HTTP, as any host's backend calls it."""

    http: httpx.AsyncClient

    async def call(self, bearer: str, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise CrmError(json.dumps(body.get("errors") or body, ensure_ascii=False))
        data: dict[str, Any] = body["data"]
        return data

    async def mutate(self, bearer: str, query: str, mutation: str, /, **variables: Any) -> Any:
        payload = (await self.call(bearer, query, **variables))[mutation]
        if payload["userErrors"]:
            raise CrmError(json.dumps(payload["userErrors"], ensure_ascii=False))
        return payload


@dataclass
class State:
    """The builder's own data, in one JSON file: its sites and the webhooks it received."""

    path: Path
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text())
        return cls(path, data["sites"], data["events"], data.get("rejected", 0))

    def save(self) -> None:
        data = {"sites": self.sites, "events": self.events, "rejected": self.rejected}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2))
        temporary.replace(self.path)  # a crash mid-write leaves the previous file whole


def ensure_platform_key(state_dir: Path, given: str | None = None) -> str:
    """EMBEDCRM_PLATFORM_KEY if set; else the key this builder made on its first start; else a
    new one from `embedcrm platform-key create`, kept beside the builder's state."""
    key = given or os.environ.get("EMBEDCRM_PLATFORM_KEY")
    if key:
        return key
    stored = state_dir / "platform-key"
    if stored.exists():
        return stored.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "embedcrm", "platform-key", "create", "--name", "example-site"],
        check=True,
        capture_output=True,
        text=True,
    )
    key = result.stdout.strip().splitlines()[-1]
    stored.write_text(key + "\n")
    stored.chmod(0o600)
    log.info("created a platform key for the example site builder in %s", stored)
    return key


def crm_public_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def slugify(name: str) -> str:
    ascii_part = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24]
    return f"{ascii_part or 'site'}-{uuid.uuid4().hex[:6]}"


def page(title: str, body: str, *, head: str = "") -> str:
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/builder.css">'
        f"{head}</head><body>{body}</body></html>"
    )


def create_app(
    *, crm_url: str, public_url: str, state_dir: Path, platform_key: str | None = None
) -> Starlette:
    """The builder: ``public_url`` is where browsers reach it (its sites' domain)."""
    crm_url = crm_url.rstrip("/")
    public_url = public_url.rstrip("/")
    address = urlsplit(public_url)
    # The sites' domain is the builder's own address; on a laptop, localhost is the same place.
    domains = [address.netloc]
    if address.hostname == "127.0.0.1" and address.port:
        domains.append(f"localhost:{address.port}")
    state_dir.mkdir(parents=True, exist_ok=True)
    state = State.load(state_dir / "state.json")
    lock = asyncio.Lock()
    snippets: dict[str, tuple[str, float]] = {}
    crm = Crm(httpx.AsyncClient(base_url=crm_url, timeout=15))
    # Resolved on the first request, so the builder starts even before embedcrm is up.
    keys: dict[str, str] = {}

    def platform() -> str:
        if "platform" not in keys:
            keys["platform"] = ensure_platform_key(state_dir, platform_key)
        return keys["platform"]

    async def home(request: Request) -> Response:
        rows = "".join(
            f"<li><strong>{html.escape(s['name'])}</strong> ({html.escape(s['template'])}) — "
            f'<a href="/sites/{slug}">сайт</a> · <a href="/owner/{slug}">панель владельца</a></li>'
            for slug, s in state.sites.items()
        )
        options = "".join(
            f'<option value="{key}">{html.escape(t.title)}</option>' for key, t in TEMPLATES.items()
        )
        body = f"""<main class="builder">
<h1>Конструктор сайтов</h1>
<p>Пример хоста на embedcrm: создайте сайт из шаблона, отправьте с него заявку и увидите её
в панели владельца и в журнале вебхуков.</p>
<form method="post" action="/sites" class="card">
  <h2>Новый сайт</h2>
  <label>Название сайта <input name="name" required value="Ромашка"></label>
  <label>Шаблон <select name="template">{options}</select></label>
  <label>Владелец <input name="owner" required value="Мария Иванова"></label>
  <label>E-mail владельца <input name="email" type="email" value="owner@example.com"></label>
  <button>Создать сайт</button>
</form>
<h2>Сайты</h2><ul class="sites">{rows or "<li>Пока нет сайтов.</li>"}</ul>
<p><a href="/webhooks">Журнал вебхуков</a></p>
</main>"""
        return HTMLResponse(page("Конструктор сайтов", body))

    async def create_site(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        template_key = form.get("template", "flowers")
        template = TEMPLATES.get(template_key)
        name = form.get("name", "").strip()
        owner = form.get("owner", "").strip()
        if template is None or not name or not owner:
            return HTMLResponse(page("Ошибка", "<p>Заполните все поля.</p>"), status_code=400)
        slug = slugify(name)
        key = platform()
        # The host's own ids make the calls idempotent: a retry answers the same workspace and site.
        workspace = await crm.mutate(
            key, CREATE_WORKSPACE, "createWorkspace", name=name, externalId=f"example:{slug}"
        )
        workspace_id = workspace["workspace"]["id"]
        site = await crm.mutate(
            key,
            CREATE_SITE,
            "createSite",
            ws=workspace_id,
            name=name,
            domains=domains,
            language="ru",
            externalId=f"example:{slug}:site",
        )
        site_id = site["site"]["id"]
        await crm.mutate(key, SAVE_FORM, "saveSiteForm", input={**template.form, "siteId": site_id})
        endpoint = await crm.mutate(
            key,
            CREATE_ENDPOINT,
            "createWebhookEndpoint",
            url=f"{public_url}/webhooks/receive/{slug}",
            types=EVENT_TYPES,
            ws=workspace_id,
        )
        async with lock:
            state.sites[slug] = {
                "name": name,
                "template": template_key,
                "owner": owner,
                "email": form.get("email") or None,
                "workspace_id": workspace_id,
                "site_id": site_id,
                "public_key": site["site"]["publicKey"],
                "embed_snippet": site["site"]["embedSnippet"],
                "webhook_secret": endpoint["endpoint"]["secret"],
            }
            state.save()
        return RedirectResponse(f"/sites/{slug}", status_code=303)

    def site_of(request: Request) -> tuple[str, dict[str, Any]]:
        slug = request.path_params["slug"]
        if slug not in state.sites:
            raise LookupError(slug)
        return slug, state.sites[slug]

    async def embed_snippet(site: dict[str, Any]) -> str:
        cached = snippets.get(site["site_id"])
        if cached and time.time() - cached[1] < SNIPPET_SECONDS:
            return cached[0]
        try:
            data = await crm.call(platform(), SNIPPET, id=site["site_id"])
            snippet = str(data["node"]["embedSnippet"])
        except (CrmError, httpx.HTTPError):
            log.warning("embedcrm unreachable: the page keeps the snippet it had", exc_info=True)
            snippet = site["embed_snippet"]
        snippets[site["site_id"]] = (snippet, time.time())
        return snippet

    async def generated_site(request: Request) -> Response:
        try:
            slug, site = site_of(request)
        except LookupError:
            return HTMLResponse(page("Нет сайта", "<p>Такого сайта нет.</p>"), status_code=404)
        template = TEMPLATES[site["template"]]
        rendered = '<div data-embedcrm-render="callback"></div>'
        if template.form["display"] == "INLINE":  # a popup brings its own button and dialog
            rendered = f'<section class="card" id="callback">{rendered}</section>'
        body = f"""<header class="hero" data-accent="{site["template"]}">
  <h1>{html.escape(site["name"])}</h1><p>{html.escape(template.tagline)}</p></header>
<main class="site">
<section class="card">
  <h2>Напишите нам</h2>
  <form data-embedcrm="contact" class="bound" method="post"
        action="{crm_url}/v1/sites/{site["public_key"]}/submissions">
    <label>Имя <input name="name" autocomplete="name"></label>
    <label>E-mail <input name="email" type="email" autocomplete="email"></label>
    <label>Телефон <input name="phone" type="tel" autocomplete="tel"></label>
    <label>Сообщение <textarea name="message" rows="3"></textarea></label>
    <button>Отправить</button>
  </form>
</section>
{rendered}
</main>
<footer><a href="/owner/{slug}">Панель владельца</a> · <a href="/">Конструктор</a></footer>
{await embed_snippet(site)}"""
        # The page is as strict as a careful host makes it: no inline scripts or styles at all.
        csp = (
            f"default-src 'self'; script-src {crm_url}; connect-src {crm_url}; "
            f"style-src 'self' {crm_url}; img-src 'self'; form-action {crm_url}"
        )
        return HTMLResponse(page(site["name"], body), headers={"Content-Security-Policy": csp})

    async def panel(request: Request) -> Response:
        try:
            slug, site = site_of(request)
        except LookupError:
            return HTMLResponse(page("Нет сайта", "<p>Такого сайта нет.</p>"), status_code=404)
        script = (await crm.call(platform(), PANEL_SCRIPT))["panelScript"]
        body = f"""<main class="panel">
<h1>CRM: {html.escape(site["name"])}</h1>
<p class="muted">Владелец: {html.escape(site["owner"])} · <a href="/sites/{slug}">открыть сайт</a></p>
<embedcrm-panel></embedcrm-panel>
</main>"""
        head = (
            f'<script type="module" src="{html.escape(script["src"])}" '
            f'integrity="{html.escape(script["integrity"])}" crossorigin="anonymous"></script>'
            '<script type="module" src="/static/owner.js"></script>'
        )
        # The panel needs only embedcrm's origin: its script, its API and its live stream.
        origin = crm_public_origin(script["src"])
        csp = (
            f"default-src 'self'; script-src 'self' {origin}; connect-src 'self' {origin}; "
            "style-src 'self'"
        )
        return HTMLResponse(
            page(f"Панель — {site['name']}", body, head=head),
            headers={"Content-Security-Policy": csp},
        )

    async def panel_token(request: Request) -> Response:
        """A fresh panel token for the owner's page; a real host checks its own session here."""
        try:
            slug, site = site_of(request)
        except LookupError:
            return PlainTextResponse("no such site", status_code=404)
        issued = await crm.mutate(
            platform(),
            ISSUE_TOKEN,
            "issuePanelToken",
            ws=site["workspace_id"],
            ext=f"owner:{slug}",
            name=site["owner"],
            email=site["email"],
        )
        return PlainTextResponse(issued["token"], headers={"Cache-Control": "no-store"})

    async def receive_webhook(request: Request) -> Response:
        slug = request.path_params["slug"]
        site = state.sites.get(slug)
        body = await request.body()
        if site is None:
            return Response(status_code=404)
        try:
            event = Webhook(site["webhook_secret"]).verify(body, dict(request.headers))
        except WebhookVerificationError:
            async with lock:
                state.rejected += 1
                state.save()
            return Response(status_code=400)  # never 500: a forged request is not our crash
        async with lock:
            # webhook-id is the same on every retry: a repeat is acknowledged, not shown twice.
            if not any(e["id"] == request.headers["webhook-id"] for e in state.events):
                state.events.insert(
                    0,
                    {
                        "id": request.headers["webhook-id"],
                        "site": slug,
                        "type": event["type"],
                        "timestamp": event["timestamp"],
                        "summary": summary(event),
                    },
                )
                del state.events[KEPT_EVENTS:]
                state.save()
        return Response(status_code=204)

    async def webhooks(request: Request) -> Response:
        rows = "".join(
            f"<tr><td>{html.escape(e['timestamp'])}</td><td><code>{html.escape(e['type'])}</code>"
            f"</td><td>{html.escape(state.sites.get(e['site'], {}).get('name', e['site']))}</td>"
            f"<td>{html.escape(e['summary'])}</td><td>✓ подпись верна</td></tr>"
            for e in state.events
        )
        body = f"""<main class="panel">
<h1>Журнал вебхуков</h1>
<p class="muted">События embedcrm, подпись каждого проверена пакетом standardwebhooks.
  Отклонено с неверной подписью: {state.rejected}. Страница обновляется сама.</p>
<table id="events"><thead><tr><th>Время</th><th>Событие</th><th>Сайт</th><th>Что</th>
  <th>Проверка</th></tr></thead><tbody>{rows or '<tr><td colspan="5">Пока ничего.</td></tr>'}
</tbody></table><p><a href="/">Конструктор</a></p></main>"""
        return HTMLResponse(
            page("Вебхуки", body, head='<meta http-equiv="refresh" content="3">'),
            headers={"Content-Security-Policy": "default-src 'self'"},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await crm.http.aclose()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/sites", create_site, methods=["POST"]),
            Route("/sites/{slug}", generated_site),
            Route("/owner/{slug}", panel),
            Route("/owner/{slug}/token", panel_token, methods=["POST"]),
            Route("/webhooks", webhooks),
            Route("/webhooks/receive/{slug}", receive_webhook, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.store = state
    return app


def summary(event: dict[str, Any]) -> str:
    data = event.get("data", {})
    lead = data.get("lead") or {}
    contact = data.get("contact") or lead.get("contact") or {}
    parts = [lead.get("title"), contact.get("name"), contact.get("email")]
    if event["type"] == "lead.stage_changed":
        # A lead's first stage has no "from": show what there is rather than fail the delivery.
        stages = [(data.get(k) or {}).get("name") for k in ("from_stage", "to_stage")]
        parts.append(" → ".join(name or "—" for name in stages))
    return " · ".join(str(p) for p in parts if p) or event["type"]
