"""A table in a real notebook: a notebook that builds tables is executed by Jupyter
(``nbconvert --execute``, a Python kernel), and its outputs carry ltseq's styled HTML with
the shape and the types, and an error cell raises ``QueryError``."""

from __future__ import annotations

from pathlib import Path

import ipykernel  # noqa: F401 - the kernel the notebook runs on (a test dependency)
import nbformat

ROOT = Path(__file__).resolve().parents[2]


def test_a_notebook_shows_tables_as_html() -> None:
    from nbconvert.preprocessors import ExecutePreprocessor

    cells = [
        f"import sys; sys.path.insert(0, {str(ROOT / 'python')!r})\nfrom ltseq import LTSeq",
        f"t = LTSeq.read_csv({str(ROOT / 'data' / 'sample.csv')!r}).sort('symbol', 'date')\nt",
        "LTSeq.from_dict({f'c{i}': [i] for i in range(30)})",
        "bad = LTSeq.from_dict({'s': ['x']}).derive(n=lambda r: r.s.cast('int64'))\n"
        "try:\n    bad._repr_html_()\nexcept Exception as e:\n    print(type(e).__name__)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    ExecutePreprocessor(timeout=120, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(ROOT)}})
    table = nb.cells[1].outputs[0]["data"]
    assert table["text/html"].startswith('<div class="ltseq-table"><style>')
    assert "LTSeq sorted by symbol, date · shape: (more than 10, " in table["text/html"]
    assert '<th class="ltseq-type">' in table["text/html"]
    assert "shape: (" in table["text/plain"]
    wide = nb.cells[2].outputs[0]["data"]["text/html"]
    assert "<th>…</th>" in wide and "<th>c29</th>" in wide and "<th>c10</th>" not in wide
    assert nb.cells[3].outputs[0]["text"].strip() == "QueryError"
