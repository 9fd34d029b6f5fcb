"""The workbench's web server: Streamlit's own (uvicorn and Starlette) with Sanad's guard in front.

`sanad ui` runs `streamlit run ui/serve.py`. Streamlit finds the `st.App` below by reading this
file, imports it, and serves ui/app.py through it; ui/guard.py refuses foreign Host headers and
adds the security headers. The settings every run uses are in ui/.streamlit/config.toml.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `streamlit run ui/serve.py` only puts ui/ on the path
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from ui.guard import Guard  # noqa: E402
from ui.login_route import LoginRoutes  # noqa: E402


def _oidc_secrets() -> dict | None:
    """With auth = "oidc" and the provider named in the settings, st.login's [auth] section."""
    import os

    if os.environ.get("SANAD_AUTH") != "oidc":
        return None
    from archive import settings
    from archive.archive import default_root
    from archive.team import oidc_auth_section

    root = default_root().resolve()
    section = oidc_auth_section(root, settings.load(root))
    return {"auth": section} if section else None


# Streamlit looks for a module-level `app = st.App(...)` in the file it is told to run (this file
# is the server's entry point, so reading the settings here is reading them at start); the App
# builds nothing until the server starts it. The Guard comes first: a foreign Host is refused
# before anything else looks at the request.
app = st.App("app.py", middleware=[Middleware(Guard), Middleware(LoginRoutes)], secrets=_oidc_secrets())
