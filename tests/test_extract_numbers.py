import pytest

from repro.extract.numbers import parse_number


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
