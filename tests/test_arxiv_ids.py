"""arXiv identifiers: what is accepted, how it is normalised, what is rejected."""

import pytest
from hypothesis import given, strategies as st

from repro.literature.arxiv_ids import ArxivId, folder_name, parse_arxiv_id
from repro.errors import ArxivIdError


@pytest.mark.parametrize("raw, base, version, folder", [
    ("1706.03762", "1706.03762", None, "1706.03762"),
    ("1706.03762v5", "1706.03762", 5, "1706.03762"),
    ("  1706.03762v5\n", "1706.03762", 5, "1706.03762"),
    ("arXiv:1706.03762", "1706.03762", None, "1706.03762"),
    ("2104.12255v1", "2104.12255", 1, "2104.12255"),
    ("0704.0001", "0704.0001", None, "0704.0001"),
    ("hep-th/9901001", "hep-th/9901001", None, "hep-th_9901001"),
    ("quant-ph/0201082v1", "quant-ph/0201082", 1, "quant-ph_0201082"),
    ("math.GT/0309136", "math/0309136", None, "math_0309136"),
    ("https://arxiv.org/abs/1706.03762", "1706.03762", None, "1706.03762"),
    ("https://arxiv.org/abs/1706.03762v7", "1706.03762", 7, "1706.03762"),
    ("http://arxiv.org/pdf/1706.03762v2.pdf", "1706.03762", 2, "1706.03762"),
    ("https://arxiv.org/pdf/1706.03762", "1706.03762", None, "1706.03762"),
    ("https://www.arxiv.org/abs/hep-th/9901001v3/", "hep-th/9901001", 3, "hep-th_9901001"),
    ("https://export.arxiv.org/abs/astro-ph/0601001?context=astro-ph#x", "astro-ph/0601001", None,
     "astro-ph_0601001"),
    ("arxiv.org/abs/1605.08386", "1605.08386", None, "1605.08386"),
])
def test_accepted_forms_normalise(raw, base, version, folder):
    aid = parse_arxiv_id(raw)
    assert (aid.base, aid.version, aid.folder) == (base, version, folder)
    assert aid.full == (f"{base}v{version}" if version else base)
    assert folder_name(raw) == folder


@pytest.mark.parametrize("raw, why", [
    ("", "empty"),
    ("abc", "expected"),
    ("1706.3762", "five digits"),           # too few digits
    ("1706.037620", "expected"),            # too many
    ("1501.0001", "five digits"),           # 2015+ ids have five digits
    ("1412.00001", "four digits"),
    ("1713.03762", "month 13"),
    ("0000.0000", "month 00"),
    ("0612.0001", "April 2007"),
    ("1706.03762v0", "v1"),
    ("1706.03762v", "expected"),
    ("../1706.03762", "expected"),
    ("1706.03762/../../etc", "expected"),
    ("hep-th/990100", "expected"),
    ("HEP-TH/9901001", "expected"),
    ("hep-th/9913001", "month 13"),
    ("1706.03762; rm -rf /", "spaces"),
    ("https://example.com/abs/1706.03762", "not arxiv.org"),
    ("https://arxiv.org.evil.com/abs/1706.03762", "not arxiv.org"),
    ("https://arxiv.org/list/cs.LG/recent", "expected an arxiv.org"),
    ("ftp://arxiv.org/abs/1706.03762", "http"),
    ("https://arxiv.org/abs/", "expected an arxiv.org"),
    ("x" * 400, "too long"),
])
def test_rejected_with_a_clear_message_and_hint(raw, why):
    with pytest.raises(ArxivIdError) as e:
        parse_arxiv_id(raw)
    assert why in e.value.message
    assert "1706.03762" in e.value.hint  # the hint shows what is accepted


@given(st.text(max_size=40))
def test_any_text_either_parses_to_a_safe_folder_or_is_rejected(raw):
    try:
        aid = parse_arxiv_id(raw)
    except ArxivIdError:
        return
    folder = aid.folder
    assert "/" not in folder and ".." not in folder and folder.strip() == folder
    assert all(c.isalnum() or c in "._-" for c in folder)
    assert parse_arxiv_id(aid.full) == aid  # normalisation is a fixed point


@given(st.integers(7, 30), st.integers(1, 12), st.integers(1, 99999), st.one_of(st.none(), st.integers(1, 20)))
def test_new_style_roundtrip(yy, mm, num, version):
    yymm = yy * 100 + mm
    if yymm < 704:
        return
    digits = 5 if yymm >= 1501 else 4
    num %= 10 ** digits
    text = f"{yy:02d}{mm:02d}.{num:0{digits}d}" + (f"v{version}" if version else "")
    aid = parse_arxiv_id(text)
    assert aid.full == text and aid == ArxivId(text.split("v")[0], version)
