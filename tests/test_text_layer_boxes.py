"""Born-digital PDF pages get word boxes from poppler, so their hits are outlined on the page image."""

from __future__ import annotations

from archive.models import WordBox
from ingest import detect, extract, poppler
from tests.conftest import make_text_pdf


def test_text_layer_words_have_boxes_on_the_drawn_page(tmp_path):
    pdf = make_text_pdf(tmp_path / "report.pdf", ["Ministry of Health masks\nsecond line here", "page two"])
    page = extract.extract_page(pdf, detect.PDF, 1)
    assert page.method == "text"
    width_pt, height_pt = poppler.page_size(pdf, 1)
    assert (page.width, page.height) == (round(width_pt * 150 / 72), round(height_pt * 150 / 72))
    assert [w.text for w in page.words] == "Ministry of Health masks second line here".split()
    assert [w.line for w in page.words] == [1, 1, 1, 1, 2, 2, 2]
    ministry = page.words[0]
    # Helvetica 12 pt set at x = 72 pt, baseline 720 pt from the bottom of a 792 pt page.
    assert abs(ministry.left - 150) <= 2 and 150 <= ministry.top <= 165 and 20 <= ministry.height <= 26
    assert all(0 <= w.left < page.width and 0 <= w.top < page.height for w in page.words)


def test_a_reversed_layer_gives_boxes_spelled_like_its_text():
    boxes = [WordBox("ناتسرامیب", 0, 0, 10, 10, 100.0, 1), WordBox("N95", 12, 0, 10, 10, 100.0, 1)]
    fixed = extract._layer_words(boxes, reversed_layer=True)
    assert [w.text for w in fixed] == ["بیمارستان", "N95"]
    ligature = [WordBox("\ufefbزم", 0, 0, 10, 10, 100.0, 1)]  # a lam-alef presentation form
    assert [w.text for w in extract._layer_words(ligature, reversed_layer=False)] == ["لازم"]


def test_a_hit_on_a_born_digital_page_is_outlined(archive, tmp_path):
    from ingest.pipeline import Ingestor
    from search.highlight import word_boxes
    from search.index import SearchIndex

    make_text_pdf(tmp_path / "two.pdf", ["Shipment of ventilators to Evin prison", "Masks and gloves"])
    Ingestor(archive, jobs=1).ingest([tmp_path / "two.pdf"])
    index = SearchIndex(archive.index_dir)
    hit = index.search("ventilators", limit=1, expand=False).hits[0]
    page = archive.catalog.page(hit.document_id, hit.page)
    marks = index.page_marks("ventilators", hit.document_id, hit.page)
    assert marks.pages == (hit.page,)
    boxes = word_boxes(page.text, page.words, list(marks.marks))
    assert [(b.text, b.kind) for b in boxes] == [("ventilators", "typed")]
