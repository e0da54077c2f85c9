"""How a table shows itself: a shape line, names over exact types, long values and wide tables
cut with a marker, bytes that do not look like numbers, NULL as null, styled HTML."""

from __future__ import annotations

import decimal

import pyarrow as pa

from ltseq import LTSeq


def _typed() -> LTSeq:
    return LTSeq.from_arrow(
        pa.table(
            {
                "k": pa.array([1, 2, None], pa.int32()),
                "ts": pa.array([0, 1, 2], pa.timestamp("us", "Europe/Paris")),
                "m": pa.array([decimal.Decimal("1.20"), None, decimal.Decimal("3.00")], pa.decimal128(10, 2)),
                "b": [b"\x00ab", b"12", None],
                "s": ["x" * 80, "y", None],
                "d": pa.array(["a", "b", "a"]).dictionary_encode(),
            }
        )
    )


def test_text_shows_shape_exact_types_and_cut_values() -> None:
    text = repr(_typed())
    lines = text.splitlines()
    assert lines[0] == "LTSeq" and lines[1] == "shape: (3, 6)"
    assert "timestamp[us, tz=Europe/Paris]" in text and "decimal128(10, 2)" in text
    assert "dictionary<int32, string>" in text and "| int32 " in text
    assert "b'\\x00ab'" in text and "b'12'" in text  # bytes are not numbers
    assert "x" * 49 + "…" in text and "x" * 50 not in text
    assert "| null " in text


def test_a_wide_table_is_cut_in_the_middle() -> None:
    wide = LTSeq.from_dict({f"c{i}": [i] for i in range(30)})
    text = repr(wide)
    assert "shape: (1, 30)" in text
    header = next(line for line in text.splitlines() if line.startswith("| c0"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells == [*(f"c{i}" for i in range(6)), "…", *(f"c{i}" for i in range(24, 30))]


def test_more_rows_than_shown() -> None:
    t = LTSeq.from_dict({"i": list(range(100))}).sort("i")
    assert "shape: (more than 5, 1)" in repr(t)
    html = t._repr_html_()
    assert "shape: (more than 10, 1)" in html and "first 10 rows shown" in html


def test_html_is_styled_with_a_type_row() -> None:
    html = _typed().sort("k")._repr_html_()
    assert html.startswith('<div class="ltseq-table"><style>')
    assert '<th class="ltseq-type">timestamp[us, tz=Europe/Paris]</th>' in html
    assert "LTSeq sorted by k" in html and '<td class="ltseq-null">null</td>' in html
    assert "<script" not in _typed().derive(x=lambda r: r.s + "<script>")._repr_html_().replace("&lt;script", "")
