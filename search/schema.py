"""The Whoosh schema: one index entry per page, and the scoring tuned for it."""

from __future__ import annotations

from whoosh import scoring
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema

from search.analysis import exact_analyzer, stem_analyzer, text_analyzer

# Bump whenever analysis.py or this schema changes what gets indexed: an index written with
# another version must be rebuilt from the catalog.
SCHEMA_VERSION = 2

# BM25F parameters, tuned on the Hamshahri queries with bench/retrieval.py --tune together with
# the field boosts in search/query.py: B 0.3-0.9 x K1 0.8-2.5 x exact/title boosts 0-1.5.
# MAP moved within +-1.5% over the sensible part of the grid; B=0.75, K1=1.6 was best. Titles
# and file names are a handful of words and get no length normalisation.
BM25_B = 0.75
BM25_K1 = 1.6
FIELD_B = {"title": 0.0, "filename": 0.0}


def build_schema() -> Schema:
    text = text_analyzer()
    exact = exact_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),  # "docid:page"
        document_id=ID(stored=True),
        page=NUMERIC(int, stored=True, sortable=True),
        filename=TEXT(analyzer=exact, stored=True),
        title=TEXT(analyzer=text, stored=True),
        # chars for highlighting, positions for phrases
        text=TEXT(analyzer=text, stored=True, phrase=True, chars=True),
        # unstemmed twin of `text`: exact words rank above stemmed-only matches
        exact=TEXT(analyzer=exact, stored=False, phrase=True),
        # aggressively stemmed twin of `text` (low weight): joins variants the careful stemmer
        # keeps apart (ادبیات/ادب, المللی/الملل); no positions, it only adds to the score
        stem=TEXT(analyzer=stem_analyzer(), stored=False, phrase=False),
        lang=ID(stored=True),
        source=TEXT(analyzer=exact, stored=True),
        tags=KEYWORD(commas=True, lowercase=True, stored=True),
        dates=KEYWORD(stored=True),  # space-separated YYYYMMDD
        added=DATETIME(stored=True, sortable=True),
    )


def weighting() -> scoring.WeightingModel:
    """BM25F as tuned for Sanad's fields (field weights live in the query, see search.query)."""
    per_field = {f"{name}_B": b for name, b in FIELD_B.items()}
    return scoring.BM25F(B=BM25_B, K1=BM25_K1, **per_field)
