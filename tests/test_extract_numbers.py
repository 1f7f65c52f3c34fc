import pytest

from repro.literature.extract.numbers import parse_number


@pytest.mark.parametrize("text,value,spread", [
    ("88.1 ± 0.4", 88.1, 0.4), ("88.1±0.4", 88.1, 0.4), ("47.21 (0.34)", 47.21, 0.34),
    ("1.0 · 10^20", 1.0e20, None), ("1.4·10^20", 1.4e20, None), ("100K", 100000.0, None),
    ("25.3^†", 25.3, None), ("25.3*", 25.3, None), ("−3.5", -3.5, None), ("1,234", 1234.0, None),
    ("12.5%", 12.5, None), ("3e-4", 3e-4, None),
])
def test_numbers_parse(text, value, spread):
    v, s = parse_number(text)
    assert v == pytest.approx(value) and (s == pytest.approx(spread) if spread else s is None)


@pytest.mark.parametrize("text", ["O(1)", "(A)", "×10^6", "positional embedding", "", "-", "WSJ 23"])
def test_non_numbers(text):
    assert parse_number(text) == (None, None)


@pytest.mark.parametrize("text,value,spread", [
    ("88.1^±0.4", 88.1, 0.4),          # a PDF superscript spread, glued by the PDF reader
    ("88.1^{±0.4}", 88.1, 0.4),        # the same written as LaTeX-ish plain text
    ("0.79^±1.90", 0.79, 1.9),
    ("76.2_2.9", 76.2, 2.9),           # a subscript std
    ("88.1 (0.4)", 88.1, 0.4),
    ("88.1 ± 0.4†", 88.1, 0.4),
])
def test_spread_in_every_plain_notation(text, value, spread):
    v, s = parse_number(text)
    assert v == pytest.approx(value) and s == pytest.approx(spread)


@pytest.mark.parametrize("text,value", [
    ("12.4M (35.6%)", 12.4e6),         # a share of a total is not a spread
    ("1,024 (12%)", 1024.0),
    ("25.3^1", 25.3),                  # a raised footnote digit never changes a number
    ("71.2^{2}", 71.2),
])
def test_shares_and_footnote_digits_are_not_spreads(text, value):
    assert parse_number(text) == (pytest.approx(value), None)


def test_ligatures_and_exponents_normalised():
    from repro.literature.extract.numbers import normalise

    assert normalise("eﬃcient ﬁne-tuning") == "efficient fine-tuning"
    assert parse_number("1.0·10^20") == (pytest.approx(1e20), None)  # an exponent is not a footnote
    assert parse_number("3.5×10^-4") == (pytest.approx(3.5e-4), None)


def test_math_letters_and_digits_read_as_plain_text():
    from repro.literature.extract.numbers import plain_text

    assert plain_text("𝑂_1 and 𝐱") == "O_1 and x"          # math italic/bold letters in row labels
    assert parse_number("𝟏𝟐.5") == (pytest.approx(12.5), None)


@pytest.mark.parametrize("text,value", [
    ("8 ms", 8.0), ("1.57 s", 1.57), ("-0.45°", -0.45), ("18.7^◦", 18.7), ("208 V", 208.0),
    ("0.075 pu", 0.075), ("60 Hz", 60.0), ("3.10 GiB", 3.1), ("1.15x", 1.15),   # a unit is not the value
    ("3 m/s", 3.0), ("75KHz", 75.0), ("1.77×10^15 rad/s", 1.77e15),
    ("∼100", 100.0), ("~ 0.5", 0.5),                                              # nor an approximation sign
    ("12.2 (n=115)", 12.2), ("0.81 (N = 40)", 0.81),                              # a count is not a spread
])
def test_units_approximations_and_counts_keep_the_printed_value(text, value):
    assert parse_number(text) == (pytest.approx(value), None)


@pytest.mark.parametrize("text", ["4% (213 examples)", "2 layers", "BERT (110)", "x"])
def test_labels_with_numbers_stay_labels(text):
    assert parse_number(text) == (None, None)
