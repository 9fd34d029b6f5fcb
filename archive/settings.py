"""Every tunable Sanad has, declared once: its name, default, type and help.

Values are looked up in this order, each overriding the one before: the default, the archive's
``sanad.toml``, the environment (``SANAD_<NAME>``), then command-line flags. ``load`` reads
them when it is called, never at import time, and the resulting ``Settings`` is a plain
picklable value that is handed to whatever needs it (a pool worker, a cluster worker).
``sanad settings`` prints the table with each value and where it came from; the README's table
is checked against ``markdown_table()`` by a test.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.errors import SettingsError

CONFIG_FILE = "sanad.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    group: str
    choices: tuple[str, ...] = ()

    @property
    def type(self) -> type:
        return type(self.default)

    @property
    def env(self) -> str:
        return "SANAD_" + self.name.upper()

    def parse(self, raw: Any, origin: str) -> Any:
        """The value of ``raw`` (text from the environment, or a TOML value) in this setting's type."""
        try:
            if self.type is bool:
                value = raw if isinstance(raw, bool) else _BOOLEANS[str(raw).strip().lower()]
            elif self.type is int and not isinstance(raw, bool):
                value = int(raw)
            elif self.type is float and not isinstance(raw, bool):
                value = float(raw)
            elif self.type is str:
                value = str(raw).strip()
            else:
                raise ValueError(raw)
        except (KeyError, ValueError, TypeError):
            raise SettingsError(f"{self.name} = {raw!r} (from {origin}) is not {_TYPE_NAMES[self.type]}") from None
        if self.choices and value not in self.choices:
            raise SettingsError(f"{self.name} = {raw!r} (from {origin}) is not one of {', '.join(self.choices)}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise SettingsError(f"{self.name} = {raw!r} (from {origin}) cannot be negative")
        return value


_TYPE_NAMES = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}

SETTINGS: tuple[Setting, ...] = (
    # -- ingest --
    Setting("jobs", 0, "pages processed at once on this machine; 0 means one per core", "ingest"),
    Setting("min_free_mb", 200.0, "ingest refuses to start when the archive's disk has less free space (MB)", "ingest"),
    Setting("index_every_seconds", 5.0, "how stale the search index may get while a batch runs", "ingest"),
    Setting("max_zip_depth", 3, "ZIPs inside ZIPs are opened this many levels deep", "ingest"),
    Setting("page_timeout", 900.0, "seconds one page may take before it is stopped and recorded as failed", "ingest"),
    Setting("worker_memory_mb", 6144, "memory one page worker (and the programs it runs) may use; 0 for no limit",
            "ingest"),
    # -- ocr --
    Setting("max_pixels", 40_000_000, "largest image handed to Tesseract; larger pages are read at a lower "
            "resolution (an A4 page at 600 dpi is 35 MP)", "ocr"),
    Setting("raster_dpi", 300, "resolution at which PDF pages without a usable text layer are rendered", "ocr"),
    Setting("ocr_batch", 4, "pages one worker OCRs together, sharing each Tesseract model load among them "
            "(fewer when worker_memory_mb cannot hold them); 1 reads page by page", "ocr"),
    Setting("tesseract_timeout", 300.0, "seconds one Tesseract call may take", "ocr"),
    Setting("poppler_timeout", 120.0, "seconds one poppler call may take; a PDF that takes longer is broken", "ocr"),
    # -- search --
    Setting("search_processes", 1, "processes that run the web workbench's searches, each with the index open: "
            "1 runs them in the web server itself; 0 means one per core", "search"),
    Setting("dictionary", "", "an English-Persian Wiktionary extract for cross-language search; empty looks "
            "beside the repository in ../shared/corpus/dictionary", "search"),
    # -- cluster --
    Setting("cluster", "", "address of a Dask scheduler (tcp://host:8786 or tls://…); empty runs on the local "
            "process pool", "cluster"),
    Setting("tls_ca_file", "", "the certificate authority that signed the cluster's certificates (TLS)", "cluster"),
    Setting("tls_cert", "", "this machine's certificate for the cluster (TLS)", "cluster"),
    Setting("tls_key", "", "the private key of that certificate (TLS)", "cluster"),
    # -- web --
    Setting("address", "127.0.0.1", "address the web workbench listens on", "web"),
    Setting("port", 8501, "port of the web workbench", "web"),
    Setting("auth", "none", "who may use the workbench: none (personal mode, this computer only), local "
            "accounts or oidc", "web", choices=("none", "local", "oidc")),
    Setting("session_hours", 8.0, "in team mode, hours after which a login expires and must be given again", "web"),
    Setting("login_attempts", 10, "in team mode, wrong passwords in a row that lock an account's login", "web"),
    Setting("lockout_minutes", 15.0, "in team mode, minutes an account's login stays locked after too many "
            "wrong passwords", "web"),
    Setting("oidc_metadata_url", "", "with auth = \"oidc\": the provider's discovery document "
            "(https://…/.well-known/openid-configuration); empty reads [auth] from .streamlit/secrets.toml", "web"),
    Setting("oidc_client_id", "", "with auth = \"oidc\": the workbench's client id at the provider", "web"),
    Setting("oidc_client_secret", "", "with auth = \"oidc\": its client secret (better in the environment "
            "than in sanad.toml)", "web"),
    Setting("oidc_redirect_uri", "", "with auth = \"oidc\": the address browsers come back to, ending in "
            "/oauth2callback; empty is http://ADDRESS:PORT/oauth2callback", "web"),
    Setting("oidc_name_claim", "email", "with auth = \"oidc\": the claim of the provider's ID token that names "
            "the account (accounts and their roles are the archive's own, never the provider's)", "web"),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The value of every setting, and where each came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Only settings' names: unpickling asks for fields before they exist.
        if name not in BY_NAME:
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def with_values(self, origin: str = "code", **values: Any) -> Settings:
        """A copy with some values replaced (tests, and callers that choose a value themselves)."""
        unknown = set(values) - set(BY_NAME)
        if unknown:
            raise SettingsError(f"no setting named {', '.join(sorted(unknown))}")
        return Settings({**self.values, **values}, {**self.sources, **dict.fromkeys(values, origin)})


def defaults() -> Settings:
    return Settings({s.name: s.default for s in SETTINGS})


def load(archive_root: Path | str | None = None, *, environ: Mapping[str, str] | None = None,
         flags: Mapping[str, Any] | None = None) -> Settings:
    """Defaults, then ``ARCHIVE/sanad.toml``, then ``SANAD_*`` variables, then flags (None = not given)."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    sources: dict[str, str] = {}
    if archive_root is not None:
        path = Path(archive_root) / CONFIG_FILE
        for name, raw in _read_toml(path).items():
            setting = BY_NAME.get(name)
            if setting is None:
                raise SettingsError(f"{path}: there is no setting named {name!r}; `sanad settings` lists them")
            values[name], sources[name] = setting.parse(raw, str(path)), str(path)
    for setting in SETTINGS:
        if setting.env in environ:
            origin = f"${setting.env}"
            values[setting.name], sources[setting.name] = setting.parse(environ[setting.env], origin), origin
    for name, raw in (flags or {}).items():
        if raw is not None:
            origin = "--" + name.replace("_", "-")
            values[name], sources[name] = BY_NAME[name].parse(raw, origin), origin
    return Settings(values, sources)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read: {exc}") from None
    # Groups in the file ([ocr], [cluster]) are for people; names are unique across them.
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(value if isinstance(value, dict) else {key: value})
    return flat


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:,}" if value >= 10_000 else str(value)


def markdown_table() -> str:
    """The README's settings table."""
    rows = ["| setting | environment | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = _shown(s.default)
        choices = f" (one of {', '.join(s.choices)})" if s.choices else ""
        rows.append(f"| `{s.name}` | `{s.env}` | `{default}` | {s.help}{choices} |")
    return "\n".join(rows)
