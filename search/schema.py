"""The Whoosh schema: one index entry per page, and the scoring tuned for it."""

from __future__ import annotations

import math

from search.engine import fields, scoring

from search.analysis import exact_analyzer, stem_analyzer, text_analyzer

DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema = (
    fields.DATETIME, fields.ID, fields.KEYWORD, fields.NUMERIC, fields.STORED, fields.TEXT, fields.Schema)

# Bump whenever analysis.py or this schema changes what gets indexed: an index written with
# another version must be rebuilt from the catalog.
SCHEMA_VERSION = 4  # 3: collections (team mode); 4: the stored feedback text of OCR pages (sure)

# BM25F parameters, tuned on the Hamshahri queries with bench/retrieval.py --tune together with
# the field boosts in search/query.py and the feedback in search/feedback.py. With Lucene's IDF and
# feedback (full pipeline, MAP): K1 0.9 / 1.2 / 1.6 / 2.0 at B=0.75 gave 0.8563 / 0.8588 / 0.8567 /
# 0.8517, B 0.6 / 0.75 / 0.9 at K1=1.2 gave 0.8556 / 0.8588 / 0.8544. Titles and file names are a
# handful of words and get no length normalisation.
BM25_B = 0.75
BM25_K1 = 1.2
FIELD_B = {"title": 0.0, "filename": 0.0}

# Which IDF the ranking uses: "lucene", log(1 + (N - n + 0.5) / (n + 0.5)), as Lucene's BM25 and
# the BM25 literature; or "whoosh", log(N / (n + 1)) + 1, Whoosh's own. Whoosh's added 1 lifts
# common words against rare ones (a word on 1,000 of 5,375 pages weighs 0.47 of one on 50 pages,
# 0.36 with Lucene's), so a generic query word (مرگ, علل) outweighs the one that carries the topic
# (نهنگ). Hamshahri, full pipeline: MAP 0.8320 -> 0.8430 (whale deaths 0.28 -> 0.51 AP); first pass
# alone 0.8199 -> 0.8334 (both with the feedback of the time). "whoosh" is kept for --tune.
IDF = "lucene"


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
        # the document's collections (team mode): every query of a member is filtered by them
        collections=KEYWORD(commas=True, stored=True),
        # the words of an OCR page read with confidence, which feedback draws from (search.feedback)
        sure=STORED(),
    )


class SanadBM25F(scoring.BM25F):
    """Whoosh's BM25F with the IDF chosen by ``IDF``."""

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return self.idf_of(parent.doc_frequency(fieldname, text), parent.doc_count_all())

    @staticmethod
    def idf_of(doc_frequency: int, doc_count: int) -> float:
        """The IDF of a term on ``doc_frequency`` of ``doc_count`` pages (search.ranking has the
        term's entries at hand and computes it from them)."""
        if IDF == "whoosh":
            return math.log(doc_count / (doc_frequency + 1)) + 1  # whoosh.scoring.WeightingModel.idf
        return lucene_idf(doc_frequency, doc_count)

    def field_b(self, fieldname: str) -> float:
        """B for the field, as BM25F.scorer chooses it."""
        return self._field_B.get(fieldname, self.B)


def lucene_idf(doc_frequency: int, doc_count: int) -> float:
    return math.log(1 + (doc_count - doc_frequency + 0.5) / (doc_frequency + 0.5))


def weighting() -> scoring.WeightingModel:
    """BM25F as tuned for Sanad's fields (field weights live in the query, see search.query)."""
    per_field = {f"{name}_B": b for name, b in FIELD_B.items()}
    return SanadBM25F(B=BM25_B, K1=BM25_K1, **per_field)
