"""An archive folder: originals, catalog and search index in one place on disk."""

from __future__ import annotations

import os
from pathlib import Path

from archive.catalog import Catalog
from archive.store import OriginalStore

DEFAULT_FOLDER = "sanad-archive"


def default_root() -> Path:
    return Path(os.environ.get("SANAD_ARCHIVE") or DEFAULT_FOLDER)


class Archive:
    """The folder layout::

        ROOT/originals/ab/ab12...   the original files, named by SHA-256, read-only
        ROOT/catalog.sqlite         the catalog (source of truth)
        ROOT/index/                 the search index (derived; rebuilt by `sanad reindex`)
        ROOT/tmp/                   files being written
    """

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = OriginalStore(self.root)
        self.catalog = Catalog(self.root / "catalog.sqlite")
        self.index_dir = self.root / "index"

    def original_path(self, doc_id: str) -> Path:
        return self.store.path_for(doc_id)

    def close(self) -> None:
        self.catalog.close()
