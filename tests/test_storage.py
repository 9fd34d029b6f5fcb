"""search.engine.open_storage reads an index's files as Whoosh's own storage does, only faster."""

from __future__ import annotations

import random

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from search.query import parse_query
from search.ranking import all_scores
from search.schema import build_schema, weighting
from search.engine import MappedFile, open_storage


def _index(path, pages: int = 200, segments: int = 2):
    index = whoosh_index.create_in(path, build_schema())
    rng = random.Random(1)
    words = "زندان اوین وزارت بهداشت ماسک prison ministry mask report".split()
    for segment in range(segments):
        writer = index.writer()
        for i in range(pages // segments):
            text = " ".join(rng.choices(words, k=rng.randint(3, 60)))
            key = f"d{segment}-{i}"
            writer.add_document(key=f"{key}:1", document_id=key, page=1, text=text, exact=text, title=text[:20])
        writer.commit(merge=False)
    return index


def test_reads_at_a_place_are_the_files_bytes(tmp_path):
    _index(tmp_path)
    storage = open_storage(tmp_path)
    rng = random.Random(2)
    for name in storage.list():
        data = (tmp_path / name).read_bytes()
        f = storage.open_file(name)
        assert isinstance(f, MappedFile)
        for _ in range(50):
            at = rng.randrange(len(data) + 10)
            size = rng.randrange(200)
            assert f.get(at, size) == data[at:at + size]  # past the end: what is there, as a read gives
        f.close()


def test_searches_are_the_same_as_through_whooshs_storage(tmp_path):
    _index(tmp_path)
    mapped = open_storage(tmp_path).open_index()
    plain = FileStorage(str(tmp_path), supports_mmap=False).open_index()
    for text in ("زندان", '"وزارت بهداشت"', "prison OR mask", "ماسک -اوین"):
        query = parse_query(text, mapped.schema)
        with mapped.searcher(weighting=weighting()) as a, plain.searcher(weighting=weighting()) as b:
            mine, theirs = all_scores(a, query), all_scores(b, query)
            assert len(mine[0]) > 0
            assert mine[0].tolist() == theirs[0].tolist() and mine[1].tolist() == theirs[1].tolist()


def test_a_searcher_open_while_segments_merge_away(tmp_path):
    """Merging deletes the old segment files; a searcher that had them open still reads them."""
    index = _index(tmp_path, segments=4)
    mapped = open_storage(tmp_path).open_index()
    query = parse_query("زندان", mapped.schema)
    with mapped.searcher(weighting=weighting()) as searcher:
        before = all_scores(searcher, query)
        writer = index.writer()
        writer.commit(optimize=True)
        assert len(list(tmp_path.glob("*.seg"))) == 1
        again = all_scores(searcher, query)
    assert before[0].tolist() == again[0].tolist()
    with open_storage(tmp_path).open_index().searcher(weighting=weighting()) as fresh:
        assert len(all_scores(fresh, query)[0]) == len(before[0])
