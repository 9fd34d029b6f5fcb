"""Local accounts of team mode: users with argon2 password hashes, login lockout and sessions.

There is no sign-up: an admin creates accounts (`sanad users add`). Wrong passwords are counted
in the catalog, so restarting the workbench does not reset a lock. A session is a random token
whose SHA-256 is stored with its expiry; it is checked against the catalog on every request, so a
disabled account is out at its next click.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from archive import audit
from archive.catalog import Catalog, now
from archive.errors import AuthError, InputError, LoginLocked, NotFound

NAME = re.compile(r"^[\w.@-]{1,64}$")  # \w is Unicode: Persian names are fine
MIN_PASSWORD = 8
# Checked when the name is unknown, so a wrong name costs as long as a wrong password and the
# time taken tells nobody which names exist.
_DUMMY_HASH: list[str] = []


@dataclass(frozen=True)
class User:
    name: str
    admin: bool
    disabled: bool
    created_at: str


@dataclass(frozen=True)
class Session:
    token: str  # given to the browser; only its hash is stored
    user: str
    expires_at: str


def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults (RFC 9106's low-memory profile): made when needed, not at import
    return PasswordHasher()


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise InputError(f"{name!r} cannot be a name: use 1-64 letters, digits, '.', '-', '_' or '@'")
    return name


def add_user(catalog: Catalog, name: str, password: str | None, *, admin: bool = False, actor: str = "",
             address: str | None = None) -> User:
    """A new account. ``password`` None makes one that logs in only through the organisation's
    identity provider (auth = "oidc"): it has no password to guess."""
    name = check_name(name)
    if password is not None and len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    if get_user(catalog, name) is not None:
        raise InputError(f"there is already a user {name!r}; `sanad users list` shows them")
    hashed = _hasher().hash(password) if password is not None else ""  # "" is no argon2 hash: never verifies
    with catalog.transaction() as db:
        db.execute("INSERT INTO users (name, password, admin, disabled, created_at) VALUES (?,?,?,0,?)",
                   (name, hashed, int(admin), now()))
        audit.write(db, actor or name, "user-add", None,
                    {"user": name, "admin": admin, "password": password is not None}, address)
    return get_user(catalog, name)


def get_user(catalog: Catalog, name: str) -> User | None:
    rows = catalog._query("SELECT * FROM users WHERE name = ?", (name,))
    return _user(rows[0]) if rows else None


def list_users(catalog: Catalog) -> list[User]:
    return [_user(r) for r in catalog._query("SELECT * FROM users ORDER BY name")]


def active_users(catalog: Catalog) -> int:
    return catalog._query("SELECT count(*) FROM users WHERE disabled = 0")[0][0]


def disable_user(catalog: Catalog, name: str, *, actor: str = "", address: str | None = None) -> None:
    if get_user(catalog, name) is None:
        raise NotFound(f"no user {name!r}; `sanad users list` shows them")
    with catalog.transaction() as db:
        db.execute("UPDATE users SET disabled = 1 WHERE name = ?", (name,))
        db.execute("DELETE FROM sessions WHERE user = ?", (name,))  # out at the next request
        audit.write(db, actor or name, "user-disable", None, {"user": name}, address)


def _user(row) -> User:
    return User(row["name"], bool(row["admin"]), bool(row["disabled"]), row["created_at"])


# -- logging in ---------------------------------------------------------------------------------

def authenticate(catalog: Catalog, name: str, password: str, *, attempts: int, lockout_minutes: float,
                 address: str | None = None) -> User:
    """The user, when the name and password are right and the login is not locked; otherwise
    AuthError (or LoginLocked) and a failed-login row. Every attempt is audited."""
    name = (name or "").strip()
    moment = datetime.now(UTC)
    state = catalog._query("SELECT failures, locked_until FROM login_state WHERE user = ?", (name,))
    locked_until = state[0]["locked_until"] if state else None
    if locked_until and datetime.fromisoformat(locked_until) > moment:
        audit.record(catalog, name, "login-failed", None, {"reason": "locked"}, address)
        raise LoginLocked(f"logging in as {name!r} is locked until {locked_until}")
    rows = catalog._query("SELECT password, disabled FROM users WHERE name = ?", (name,))
    ok = False
    if rows:
        try:
            ok = _hasher().verify(rows[0]["password"], password) and not rows[0]["disabled"]
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _spend_like_a_check(password)
    if ok:
        with catalog.transaction() as db:
            db.execute("DELETE FROM login_state WHERE user = ?", (name,))
            audit.write(db, name, "login", None, {}, address)
        return get_user(catalog, name)
    # Unknown names are counted too: a lock must not tell which names exist.
    with catalog.transaction() as db:
        failures = (state[0]["failures"] if state and not locked_until else 0) + 1
        lock = None
        if failures >= attempts:
            lock = (moment + timedelta(minutes=lockout_minutes)).isoformat(timespec="seconds")
            failures = 0
        db.execute("INSERT INTO login_state (user, failures, locked_until) VALUES (?,?,?)"
                   " ON CONFLICT(user) DO UPDATE SET failures = excluded.failures,"
                   " locked_until = excluded.locked_until", (name, failures, lock))
        audit.write(db, name, "login-failed", None, {"reason": "password", "locked": bool(lock)}, address)
    if lock:
        raise LoginLocked(f"{attempts} wrong passwords: logging in as {name!r} is locked until {lock}")
    raise AuthError()


def _spend_like_a_check(password: str) -> None:
    hasher = _hasher()
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hasher.hash(secrets.token_hex(16)))
    try:
        hasher.verify(_DUMMY_HASH[0], password)
    except VerificationError:
        pass


# -- sessions -------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(catalog: Catalog, user: str, *, hours: float, address: str | None = None) -> Session:
    token = secrets.token_urlsafe(32)
    moment = datetime.now(UTC)
    expires = (moment + timedelta(hours=hours)).isoformat(timespec="seconds")
    with catalog.transaction() as db:
        db.execute("DELETE FROM sessions WHERE expires_at < ?", (moment.isoformat(timespec="seconds"),))
        db.execute("INSERT INTO sessions (token_hash, user, created_at, expires_at, address) VALUES (?,?,?,?,?)",
                   (_token_hash(token), user, now(), expires, address))
    return Session(token, user, expires)


def session_user(catalog: Catalog, token: str | None) -> User | None:
    """The account of a live session: not expired, not ended, the account not disabled."""
    if not token:
        return None
    rows = catalog._query("SELECT user, expires_at FROM sessions WHERE token_hash = ?", (_token_hash(token),))
    if not rows or datetime.fromisoformat(rows[0]["expires_at"]) <= datetime.now(UTC):
        return None
    user = get_user(catalog, rows[0]["user"])
    return user if user is not None and not user.disabled else None


def end_session(catalog: Catalog, token: str, address: str | None = None) -> None:
    rows = catalog._query("SELECT user FROM sessions WHERE token_hash = ?", (_token_hash(token),))
    with catalog.transaction() as db:
        db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
        if rows:
            audit.write(db, rows[0]["user"], "logout", None, {}, address)


EXPIRED = "the login has expired"


def oidc_account(catalog: Catalog, claims: dict, name_claim: str, hours: float) -> tuple[str, str | None]:
    """The account an identity provider's ID token names, and what stops it being used (None when
    nothing does). Only the name is taken from the token, never roles or groups; the login counts
    for ``hours`` after the provider issued the token (EXPIRED after that)."""
    name = str(claims.get(name_claim) or "").strip()
    issued = claims.get("iat")
    if isinstance(issued, (int, float)) and datetime.now(UTC).timestamp() - issued > hours * 3600:
        return name, EXPIRED
    if not name:
        return name, f"the identity provider gave no {name_claim!r} claim"
    if name_claim == "email" and claims.get("email_verified") is False:
        return name, "the identity provider has not verified this e-mail address"  # anyone may type any address
    account = get_user(catalog, name)
    if account is None or account.disabled:
        return name, "this archive has no account of that name" if account is None else "this account is disabled"
    return name, None


KEY_FILE = "session.key"


def session_key(root: Path | str) -> bytes:
    """The archive's secret for signing session cookies (and Streamlit's OIDC cookie): made once,
    readable by the archive's owner only. Deleting the file logs everyone out."""
    path = Path(root) / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if len(key) < 32:  # being written by another process this instant
        import time

        time.sleep(0.2)
        key = path.read_text().strip()
    return key.encode()
