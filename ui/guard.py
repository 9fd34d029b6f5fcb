"""What the workbench's web server refuses and the headers it adds to every response.

Streamlit checks `server.allowedHosts` only when a WebSocket opens; its HTTP routes (the page,
static files, /media downloads, uploads) answer any Host. A web page on another site can point
its own host name at 127.0.0.1 (DNS rebinding) and then read those answers as same-origin, so
this middleware refuses every request, HTTP or WebSocket, whose Host is not one the server was
started for. The list is Streamlit's own `server.allowedHosts` (`sanad ui` fills it), so the
WebSocket check and this one cannot disagree.

The headers keep the workbench out of other sites' frames (clickjacking) and limit the page to
its own server for scripts, styles, images, fonts and connections.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

# Hosts that are this computer whatever the configuration says.
LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::")


def allowed_hosts(address: str, extra: list[str] | tuple = ()) -> list[str]:
    """The Host names a server bound to ``address`` answers: loopback names, the address itself
    unless it is a wildcard, and ``extra`` (names a user gave)."""
    hosts = list(LOOPBACK)
    if address not in WILDCARDS:
        hosts.append(address)
    hosts += [h for h in extra if h]
    return list(dict.fromkeys(h.strip().lower().rstrip(".") for h in hosts))


def host_name(header: str | None) -> str | None:
    """The name in a Host header without its port, lowercased; None when it is not a plain host
    (credentials, a path, a bad port)."""
    if not header:
        return None
    try:
        parts = urlsplit(f"//{header}")
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return None
    if parts.hostname is None or parts.username is not None or parts.password is not None or parts.path \
            or parts.query or parts.fragment:
        return None
    return parts.hostname.lower().rstrip(".")


def host_allowed(header: str | None, allowed: list[str]) -> bool:
    name = host_name(header)
    if name is None:
        return False
    for pattern in allowed:
        pattern = pattern.strip().lower().rstrip(".")
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


def inline_script_hashes(index_html: str) -> list[str]:
    """CSP sources for the inline scripts of Streamlit's index.html (it has one, a flag set before
    the app loads), so script-src needs no 'unsafe-inline'."""
    bodies = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", index_html, re.S)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in bodies if b]


def content_security_policy(script_hashes: list[str]) -> str:
    # Styles need 'unsafe-inline': Streamlit's components style themselves with inline <style>
    # elements (emotion) and the page images come as data: URLs. Streamlit's frontend compiles
    # WebAssembly on every page ('wasm-unsafe-eval' allows that and not JavaScript's eval).
    # 'self' covers the WebSocket of the same host and port (CSP level 3).
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", "'wasm-unsafe-eval'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(script_hashes: list[str]) -> list[tuple[bytes, bytes]]:
    return [(b"x-frame-options", b"DENY"),
            (b"content-security-policy", content_security_policy(script_hashes).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin")]


def _streamlit_index() -> str:
    import streamlit

    return (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")


class Guard:
    """ASGI middleware: refuses foreign Host headers, adds the security headers.

    The allowed hosts and headers are worked out on the first request, from the configuration
    Streamlit has loaded by then (flags, ui/.streamlit/config.toml), not when this is imported.
    """

    def __init__(self, app, hosts: list[str] | None = None, index_html: str | None = None):
        self.app = app
        self._hosts = hosts
        self._index_html = index_html
        self._headers: list[tuple[bytes, bytes]] | None = None

    def _settings(self) -> tuple[list[str], list[tuple[bytes, bytes]]]:
        if self._hosts is None:
            from streamlit import config

            configured = list(config.get_option("server.allowedHosts") or [])
            self._hosts = configured or allowed_hosts(config.get_option("server.address") or "")
        if self._headers is None:
            self._headers = security_headers(inline_script_hashes(self._index_html or _streamlit_index()))
        return self._hosts, self._headers

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        hosts, headers = self._settings()
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if not host_allowed(host, hosts):
            return await _refuse(scope, receive, send)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = dict(message, headers=[*message.get("headers", []),
                                                 *(h for h in headers if h[0] not in present)])
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def _refuse(scope, receive, send):
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # before accept: the server answers 403
        return
    body = b"This server does not answer for that host name.\n"
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
