"""An execution error is a ``QueryError`` (an ``LTSeqError``) from every way of reading a
table, carrying the SQL and without DataFusion's or the FFI's prefixes, on both routes; the
repr of a table that cannot run says so instead of raising."""

from __future__ import annotations

import datafusion
import pytest

import ltseq
from ltseq import LTSeq, LTSeqError, QueryError


@pytest.mark.parametrize("planner", [False, True])
def test_every_output_raises_query_error_with_the_sql(planner: bool) -> None:
    ctx = ltseq.register(datafusion.SessionContext(), planner=planner)
    t = LTSeq.from_dict({"s": ["1", "x"], "i": [1, 2]}, ctx=ctx).sort("i")
    bad = t.derive(n=lambda r: r.s.cast("int64"))
    readers = {
        "to_arrow": bad.to_arrow,
        "to_dicts": bad.to_dicts,
        "to_pandas": bad.to_pandas,
        "show": bad.show,
        "_repr_html_": bad._repr_html_,
        "iter": lambda: list(bad),
        "collect": bad.collect,
        "count": lambda: bad.filter(lambda r: r.n > 0).count(),
        "groups": lambda: len(bad.group_ordered(lambda r: r.n)),
        "search": lambda: bad.search_pattern_count(lambda r: r.n > 0),
    }
    for name, read in readers.items():
        with pytest.raises(QueryError) as info:
            read()
        text = str(info.value)
        assert isinstance(info.value, LTSeqError), name
        assert "Cannot cast string 'x'" in text and "in SQL: SELECT" in text, (name, text)
        assert "FFI error" not in text and "DataFusion error" not in text, (name, text)
    assert "could not run: Arrow error: Cast error" in repr(bad)
