"""The widget as served: its bytes, a content hash for the versioned path, and its SRI digest."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from starlette.responses import Response


@dataclass(frozen=True)
class StaticAsset:
    body: bytes
    media_type: str

    @property
    def integrity(self) -> str:
        """The Subresource Integrity value a host puts in ``integrity=""``."""
        return "sha384-" + base64.b64encode(hashlib.sha384(self.body).digest()).decode()

    @property
    def version(self) -> str:
        """A short content hash: the versioned path changes whenever the bytes do."""
        return hashlib.sha256(self.body).hexdigest()[:12]


def load_asset(name: str, media_type: str, *, minified: bool = False) -> StaticAsset:
    """A file of ``embedcrm/static``; ``minified`` for a script every visitor of every site
    downloads, so that its source keeps its indentation at no cost to them."""
    body = resources.files("embedcrm").joinpath("static", name).read_bytes()
    if minified:
        body = minify(body.decode("utf-8")).encode("utf-8")
    return StaticAsset(body=body, media_type=media_type)


def minify(source: str) -> str:
    """A conservative minifier: indentation, blank lines and whole-line or end-of-statement
    comments go; line breaks stay, so automatic semicolon insertion sees the same code.
    Licence comments (``/*!``) stay. It is meant for the widgets as written here (no block
    comment markers inside strings or regular expressions)."""
    source = re.sub(r"/\*(?!!).*?\*/", "", source, flags=re.S)
    lines = []
    for line in source.splitlines():
        line = re.sub(r"([;{}])\s+//[^'\"`]*$", r"\1", line.strip())
        if line and not line.startswith("//"):
            lines.append(line)
    return "\n".join(lines)


def script_response(asset: StaticAsset, *, pinned: bool) -> Response:
    """A script any site may load: the latest under a short cache, or a pinned version
    (immutable) whose path names its content. Cross-origin module scripts load only with CORS."""
    cache = "public, max-age=31536000, immutable" if pinned else "public, max-age=300"
    return Response(
        asset.body,
        media_type=asset.media_type,
        headers={
            "Cache-Control": cache,
            "ETag": f'"{asset.version}"',
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        },
    )
