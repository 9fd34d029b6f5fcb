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


def check_team_mode(archive, mode: str, cwd: Path | None = None) -> None:
    """Raise TeamModeNotReady naming what is missing for ``mode`` ("local" or "oidc")."""
    from archive.accounts import active_users

    if mode == "local" and not active_users(archive.catalog):
        raise TeamModeNotReady("team mode with local accounts needs an account, and there is none: create an"
                               " admin with `sanad users add NAME --admin`")
    if mode == "oidc":
        missing = oidc_missing(cwd)
        if missing:
            where = " or ".join(str(p) for p in secrets_files(cwd))
            raise TeamModeNotReady(f"team mode with OIDC needs [auth] with {', '.join(missing)} in {where}"
                                   " (see Streamlit's st.login)")
