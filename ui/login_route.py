"""Team mode with local accounts on the web server itself: the login form, the session cookie
and logging out, as ASGI middleware beside ui/guard.py.

Why here and not in the Streamlit script: a script talks to the browser over a WebSocket, which
cannot set a cookie, least of all an HttpOnly one, and a login kept only in the script's session
is lost when the page is reloaded. So the form posts to this layer, which checks the password
(argon2, the lockout, the audit row: archive/accounts.py), starts a session in the catalog and
answers with a redirect that sets the cookie: ``sanad_session``, HttpOnly (no script can read it),
SameSite=Lax (no other site's form or request carries it), Secure behind HTTPS, and lasting
``session_hours``. Its value is the session's random token signed with the archive's key
(itsdangerous, with a timestamp), so a cookie past its hours or not made here is refused before
the catalog is asked; the catalog is asked on every request all the same (ui/auth.py), so
logging out, disabling an account or revoking a membership count at once.

A browser opening a workbench page without a live session is sent to the form; page images,
downloads and uploads (/media, /_stcore/upload_file) are refused without one. With OIDC
(auth = "oidc") Streamlit's own /auth routes and cookie do the login, and this layer only checks
that cookie on /media and uploads: Streamlit reads it on its WebSocket alone, so without this a
download's address would serve anyone who had it.
"""

from __future__ import annotations

import asyncio
import html
import os
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

COOKIE = "sanad_session"
LOGIN = "/_sanad/login"
LOGOUT = "/_sanad/logout"
SALT = "sanad-session"
# Streamlit's own routes: its frontend's files, its API, and the OIDC routes.
STREAMLIT_PREFIXES = ("/_stcore/", "/static/", "/component/", "/app/static/", "/auth/", "/oauth2callback",
                      "/favicon", "/manifest.json", "/robots.txt")
NEEDS_SESSION = ("/media/", "/_stcore/upload_file")
MAX_FORM = 8192  # bytes of a login form; anything longer is not one


def address_of(client: str | None, forwarded: str = "") -> str | None:
    """The address for the audit log: the client's, or for a connection from this computer (a
    reverse proxy on it) "localhost" and the proxy's X-Forwarded-For, as a record only."""
    if client and client not in ("127.0.0.1", "::1", "localhost"):
        return client
    return "localhost" + (f" (forwarded for {forwarded[:100]})" if forwarded else "")


def signer(root: Path | str):
    from itsdangerous import TimestampSigner

    from archive.accounts import session_key

    return TimestampSigner(session_key(root), salt=SALT)


def token_of(cookie: str | None, root: Path | str, hours: float) -> str | None:
    """The session token a cookie carries, when this archive signed it less than ``hours`` ago."""
    from itsdangerous import BadSignature

    if not cookie:
        return None
    try:
        return signer(root).unsign(cookie, max_age=hours * 3600).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server, never another site (an open redirect)."""
    target = (target or "/").strip()
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme or parts.netloc \
            or target.startswith("/_sanad/") or any(ord(c) < 32 for c in target):
        return "/"
    return target


class LoginRoutes:
    """ASGI middleware: the login form and logout in team mode with local accounts."""

    def __init__(self, app):
        self.app = app
        self._archive = None
        self._mode: str | None = None

    def _setup(self):
        if self._mode is None:
            from archive import settings
            from archive.archive import Archive, default_root

            root = default_root().resolve()
            self._mode = os.environ.get("SANAD_AUTH") or settings.load(root).auth
            if self._mode in ("local", "oidc"):
                self._archive = Archive(root)
        return self._mode

    def _settings(self):
        from archive import settings

        return settings.load(self._archive.root)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self._setup() not in ("local", "oidc"):
            return await self.app(scope, receive, send)
        from starlette.requests import Request

        request = Request(scope, receive)
        path = scope["path"]
        if self._mode == "oidc":
            if path.startswith(NEEDS_SESSION) and await asyncio.to_thread(self._oidc_user, request) is None:
                return await _plain(403, "Log in first.\n")(scope, receive, send)
            return await self.app(scope, receive, send)
        if path == LOGIN:
            response = await (self._login(request) if request.method == "POST" else self._form(request))
            return await response(scope, receive, send)
        if path == LOGOUT:
            return await (await self._logout(request))(scope, receive, send)
        navigation = request.method == "GET" and (
            request.headers.get("sec-fetch-mode") == "navigate"
            or ("sec-fetch-mode" not in request.headers and "text/html" in request.headers.get("accept", "")))
        streamlit_own = path.startswith(STREAMLIT_PREFIXES)
        if (navigation and not streamlit_own) or path.startswith(NEEDS_SESSION):
            if await asyncio.to_thread(self._live_user, request) is None:
                if path.startswith(NEEDS_SESSION):
                    return await _plain(403, "Log in first.\n")(scope, receive, send)
                target = path + ("?" + scope["query_string"].decode("latin-1") if scope["query_string"] else "")
                return await _redirect(f"{LOGIN}?next={quote(target, safe='')}")(scope, receive, send)
        return await self.app(scope, receive, send)

    # -- the three answers ---------------------------------------------------------------------

    def _live_user(self, request) -> str | None:
        from archive import accounts

        token = token_of(request.cookies.get(COOKIE), self._archive.root, self._settings().session_hours)
        user = accounts.session_user(self._archive.catalog, token)
        return user.name if user else None

    def _oidc_user(self, request) -> str | None:
        from archive import accounts

        claims = streamlit_user(request.cookies)
        if not claims or not claims.get("is_logged_in"):
            return None
        current = self._settings()
        name, problem = accounts.oidc_account(self._archive.catalog, claims, current.oidc_name_claim,
                                              current.session_hours)
        return name if problem is None else None

    async def _form(self, request, error: str = "", status: int = 200, name: str = ""):
        return _html(status, login_page(safe_next(request.query_params.get("next")), error, name))

    async def _login(self, request):
        from archive import accounts
        from archive.errors import AuthError

        if not _same_origin(request):  # another site's form posting a login (login CSRF)
            return _plain(403, "A login must come from this workbench's own page.\n")
        body = await request.body()
        if len(body) > MAX_FORM:
            return _plain(413, "Too long for a login form.\n")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        name, password = form.get("name", "").strip(), form.get("password", "")
        target = safe_next(form.get("next"))
        current = self._settings()
        where = address_of(request.client.host if request.client else None,
                           request.headers.get("x-forwarded-for", ""))

        def check():
            user = accounts.authenticate(self._archive.catalog, name, password, attempts=current.login_attempts,
                                         lockout_minutes=current.lockout_minutes, address=where)
            return accounts.start_session(self._archive.catalog, user.name, hours=current.session_hours,
                                          address=where)

        try:
            session = await asyncio.to_thread(check)  # argon2 takes a while: not on the server's loop
        except AuthError as exc:
            locked = "locked" in str(exc)
            return _html(429 if locked else 401, login_page(target, str(exc).split(";")[0] + ".", name))
        response = _redirect(target)
        response.set_cookie(COOKIE, signer(self._archive.root).sign(session.token).decode(),
                            max_age=int(current.session_hours * 3600), path="/", httponly=True, samesite="lax",
                            secure=_https(request))
        return response

    async def _logout(self, request):
        from archive import accounts

        if request.method != "POST" or not _same_origin(request):  # not another site's link or form
            return _redirect("/")
        token = token_of(request.cookies.get(COOKIE), self._archive.root, self._settings().session_hours)
        if token:
            where = address_of(request.client.host if request.client else None,
                               request.headers.get("x-forwarded-for", ""))
            await asyncio.to_thread(accounts.end_session, self._archive.catalog, token, where)
        response = _redirect(LOGIN)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_https(request))
        return response


def streamlit_user(cookies: dict[str, str]) -> dict | None:
    """The claims in the login cookie st.login sets, when Streamlit signed it, else None.

    Streamlit's own reading of it sits inside its WebSocket handler, so this takes its parts; they
    are Streamlit's internals, kept to this one function and checked by tests/test_team_oidc.py."""
    import json

    from streamlit.auth_util import get_cookie_with_chunks
    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    secret = get_cookie_secret()

    def signed(name: str) -> bytes | None:
        raw = cookies.get(name)
        return None if raw is None else decode_signed_value(secret, name, raw.encode("latin-1"))

    try:
        value = get_cookie_with_chunks(signed, USER_COOKIE_NAME)
        claims = json.loads(value) if value else None
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _same_origin(request) -> bool:
    """A form of this server's own page. Browsers say so in Sec-Fetch-Site; one too old for it
    sends Origin, which the workbench's no-referrer policy turns to "null" (refused: such a
    browser must be updated to log in, not trusted on its word)."""
    site = request.headers.get("sec-fetch-site")
    if site:
        return site == "same-origin"
    claimed = request.headers.get("origin")
    if not claimed or claimed == "null":
        return False
    return urlsplit(claimed).netloc.lower() == request.headers.get("host", "").lower()


def _https(request) -> bool:
    # Behind the README's reverse proxy the browser's connection is HTTPS; the flag only makes
    # the browser stricter, so trusting the header here grants nothing.
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _html(status: int, body: str):
    from starlette.responses import HTMLResponse

    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _plain(status: int, text: str):
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(text, status_code=status)


def _redirect(target: str):
    from starlette.responses import RedirectResponse

    return RedirectResponse(target, status_code=303, headers={"cache-control": "no-store"})


STYLE = """
body{margin:0;font-family:system-ui,'Vazirmatn','Noto Naskh Arabic',sans-serif;background:#f6f7f9;color:#1f2430}
main{max-width:22rem;margin:12vh auto;background:#fff;border:1px solid #dde1e7;border-radius:.75rem;padding:2rem}
h1{margin:0 0 .2rem;font-size:1.6rem}h1 span{color:#6b7280;font-weight:400}
p{color:#4b5563;font-size:.9rem;margin:.2rem 0 1.2rem}
label{display:block;font-size:.9rem;margin:.9rem 0 .3rem}
input{box-sizing:border-box;width:100%;padding:.55rem .7rem;border:1px solid #c7ccd4;border-radius:.45rem;font:inherit}
button{margin-top:1.3rem;width:100%;padding:.6rem;border:0;border-radius:.45rem;background:#ff4b4b;color:#fff;
font:inherit;font-weight:600;cursor:pointer}
.error{background:#fdecec;color:#8a1c1c;border-radius:.45rem;padding:.6rem .8rem;font-size:.9rem}
small{display:block;margin-top:1.2rem;color:#6b7280}
"""


def login_page(target: str, error: str = "", name: str = "") -> str:
    e = html.escape
    alert = f'<div class="error" role="alert" data-testid="login-error">{e(error)}</div>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Log in · Sanad</title><style>{STYLE}</style></head>
<body><main>
<h1>Sanad <span dir="rtl" lang="fa">سند</span></h1>
<p>This archive is shared by a team: log in to see the investigations you belong to.</p>
{alert}
<form method="post" action="{LOGIN}">
<input type="hidden" name="next" value="{e(target)}">
<label for="name">Name</label>
<input id="name" name="name" autocomplete="username" required value="{e(name)}" {"" if name else "autofocus"}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
 {"autofocus" if name else ""}>
<button type="submit">Log in</button>
</form>
<small>Accounts are created by the archive's admin; there is no sign-up.</small>
</main></body></html>"""
