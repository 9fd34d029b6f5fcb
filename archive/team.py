"""Whether team mode can start: the checks `sanad ui` and the workbench make before serving."""

from __future__ import annotations

import tomllib
from pathlib import Path

from archive.errors import TeamModeNotReady

OIDC_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


def secrets_files(cwd: Path | None = None) -> list[Path]:
    """Where Streamlit reads secrets.toml from: the working folder's .streamlit, then the home's."""
    return [(cwd or Path.cwd()) / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


def oidc_missing(cwd: Path | None = None) -> list[str]:
    """The keys of `[auth]` st.login needs that no secrets.toml gives (all when there is none)."""
    found: dict = {}
    for path in secrets_files(cwd):
        try:
            with path.open("rb") as f:
                section = tomllib.load(f).get("auth", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        found = {**section, **found}
    providers = [v for v in found.values() if isinstance(v, dict)]  # [auth.NAME] sections
    missing = [k for k in OIDC_KEYS if k not in found and not any(k in p for p in providers)]
    return missing


def oidc_auth_section(root: Path, current) -> dict | None:
    """The [auth] section st.login reads, made from the archive's settings (oidc_*) when they name
    a provider; None leaves Streamlit to read .streamlit/secrets.toml. Its cookie is signed with
    the archive's own key, so no secret has to be written into a file for it."""
    from archive.accounts import session_key

    if not current.oidc_metadata_url:
        return None
    host = current.address if current.address not in ("", "0.0.0.0", "::") else "localhost"
    return {"server_metadata_url": current.oidc_metadata_url, "client_id": current.oidc_client_id,
            "client_secret": current.oidc_client_secret,
            "redirect_uri": current.oidc_redirect_uri or f"http://{host}:{current.port}/oauth2callback",
            "cookie_secret": session_key(root).decode()}


def check_team_mode(archive, mode: str, cwd: Path | None = None) -> None:
    """Raise TeamModeNotReady naming what is missing for ``mode`` ("local" or "oidc")."""
    from archive import settings
    from archive.accounts import active_users

    if mode == "local" and not active_users(archive.catalog):
        raise TeamModeNotReady("team mode with local accounts needs an account, and there is none: create an"
                               " admin with `sanad users add NAME --admin`")
    if mode == "oidc":
        current = settings.load(archive.root)
        if current.oidc_metadata_url:
            missing = [f"oidc_{k}" for k in ("client_id", "client_secret") if not getattr(current, f"oidc_{k}")]
            if missing:
                raise TeamModeNotReady(f"team mode with OIDC needs the settings {', '.join(missing)} besides"
                                       " oidc_metadata_url (in ARCHIVE/sanad.toml or SANAD_OIDC_* variables)")
        else:
            missing = oidc_missing(cwd)
            if missing:
                where = " or ".join(str(p) for p in secrets_files(cwd))
                raise TeamModeNotReady(f"team mode with OIDC needs the setting oidc_metadata_url (with oidc_client_id"
                                       f" and oidc_client_secret), or [auth] with {', '.join(missing)} in {where}"
                                       " (see Streamlit's st.login)")
        if not active_users(archive.catalog):
            raise TeamModeNotReady("team mode with OIDC needs an account for the people who log in, and there is"
                                   " none: create an admin with `sanad users add NAME --admin --oidc`, NAME being"
                                   " the value of their oidc_name_claim (their e-mail address by default)")
