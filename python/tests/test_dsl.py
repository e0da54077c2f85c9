"""The LTSeq DSL core: construction, output, transforms, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import datafusion
import pandas as pd
import pyarrow as pa
import pytest

import ltseq
from ltseq import LTSeq
from ltseq.exceptions import ColumnNotFoundError


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    p = tmp_path / "data.csv"
    p.write_text("id,name,price\n1,Alice,10.5\n2,Bob,12.0\n3,Carol,\n")
    return p


@pytest.fixture
def t(prices: Path) -> LTSeq:
    return LTSeq.read_csv(prices)


# ---- construction ----------------------------------------------------------------------------
def test_read_csv_schema_and_rows(t: LTSeq):
    assert t.columns == ["id", "name", "price"]
    assert t.schema == {"id": "int64", "name": "string", "price": "float64"}
    assert t.dtypes == [("id", "int64"), ("name", "string"), ("price", "float64")]
    assert t.to_dicts() == [
        {"id": 1, "name": "Alice", "price": 10.5},
        {"id": 2, "name": "Bob", "price": 12.0},
        {"id": 3, "name": "Carol", "price": None},
    ]
    assert t.sort_keys is None


def test_read_csv_without_header(tmp_path: Path):
    p = tmp_path / "nh.csv"
    p.write_text("1,x\n2,y\n")
    t = LTSeq.read_csv(p, has_header=False)
    assert t.columns == ["column_1", "column_2"]
    assert t.to_dicts() == [{"column_1": 1, "column_2": "x"}, {"column_1": 2, "column_2": "y"}]


def test_read_csv_quoted_newlines_in_many_partitions(tmp_path: Path):
    # quoted values spanning lines, a file split in byte ranges by 4 partitions
    p = tmp_path / "nl.csv"
    p.write_text("id,txt\n" + "".join(f'{i},"a\nb {i}"\n' for i in range(5000)))
    config = datafusion.SessionConfig().with_target_partitions(4)
    config = config.set("datafusion.optimizer.repartition_file_min_size", "100")
    ctx = ltseq.register(datafusion.SessionContext(config))
    t = LTSeq.read_csv(p, newlines_in_values=True, ctx=ctx)
    assert t.schema == {"id": "int64", "txt": "string"}
    assert t.to_dicts() == [{"id": i, "txt": f"a\nb {i}"} for i in range(5000)]


def test_read_csv_options(tmp_path: Path):
    p = tmp_path / "data.tsv"
    p.write_text("# a comment\na\tb\n1\t'x\ty'\n2\t'z'\n")
    t = LTSeq.read_csv(p, delimiter="\t", quote="'", comment="#")
    assert t.to_dicts() == [{"a": 1, "b": "x\ty"}, {"a": 2, "b": "z"}]
    schema = pa.schema([("a", pa.float64()), ("b", pa.string())])
    typed = LTSeq.read_csv(p, delimiter="\t", quote="'", comment="#", schema=schema)
    assert typed.schema == {"a": "float64", "b": "string"}
    with pytest.raises(ValueError, match="delimiter must be one ASCII character"):
        LTSeq.read_csv(p, delimiter="ab")
    with pytest.raises(TypeError, match=r"unknown options \['sep'\]"):
        LTSeq.read_csv(p, sep=";")
    with pytest.raises(TypeError, match="schema must be a pyarrow.Schema"):
        LTSeq.read_csv(p, schema={"a": "int64"})  # type: ignore[arg-type]


def test_missing_files_raise_file_not_found(tmp_path: Path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError) as err:
        LTSeq.read_csv(missing)
    assert str(missing) in str(err.value)
    with pytest.raises(FileNotFoundError):
        LTSeq.read_parquet(tmp_path / "nope.parquet")


def test_read_parquet(tmp_path: Path):
    import pyarrow.parquet as pq

    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [3, 1, 2], "b": ["x", "y", "z"]}), p)
    t = LTSeq.read_parquet(p)
    assert t.to_dicts() == [{"a": 3, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "z"}]


def test_from_dict_pandas_arrow():
    d = {"a": [3, 1, 2], "b": ["x", None, "z"]}
    expected = [{"a": 3, "b": "x"}, {"a": 1, "b": None}, {"a": 2, "b": "z"}]
    assert LTSeq.from_dict(d).to_dicts() == expected
    assert LTSeq.from_pandas(pd.DataFrame(d)).to_dicts() == expected
    assert LTSeq.from_arrow(pa.table(d)).to_dicts() == expected
    with pytest.raises(ValueError, match="different lengths"):
        LTSeq.from_dict({"a": [1], "b": [1, 2]})
    with pytest.raises(TypeError):
        LTSeq.from_arrow({"a": [1]})
    with pytest.raises(TypeError):
        LTSeq()


def test_from_rows_keeps_every_key():
    # every key of any row is a column, in the order keys first appear; a missing one is NULL
    assert LTSeq.from_rows([{"a": 1}, {"b": 2}]).to_dicts() == [{"a": 1, "b": None}, {"a": None, "b": 2}]
    assert LTSeq.from_rows([{"a": 1}, {"a": 3, "b": "x"}]).to_arrow().column_names == ["a", "b"]
    schema = pa.schema([("a", pa.int64())])
    with pytest.raises(ValueError, match=r"keys \['z'\] are not columns of the schema \['a'\]"):
        LTSeq.from_rows([{"a": 1, "z": 2}], schema=schema)
    with pytest.raises(TypeError, match="row 1 is a list"):
        LTSeq.from_rows([{"a": 1}, [1]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="column names are strings"):
        LTSeq.from_rows([{1: 2}])  # type: ignore[dict-item]
    assert LTSeq.from_rows([], schema=schema).count() == 0


def test_empty_tables_keep_their_schema():
    t = LTSeq.from_arrow(pa.table({"a": pa.array([], pa.int64())}))
    assert t.count() == 0 and len(t) == 0
    assert t.to_arrow().schema.field("a").type == pa.int64()
    assert t.filter(lambda r: r.a > 0).to_dicts() == []


def test_datafusion_round_trip():
    ctx = datafusion.SessionContext()
    df = ctx.from_pydict({"a": [2, 1, 3]}).sort(datafusion.col("a").sort(ascending=False))
    t = LTSeq.from_datafusion(df)
    assert [r["a"] for r in t] == [3, 2, 1]
    back = t.filter(lambda r: r.a > 1).to_datafusion()
    assert back.to_pydict() == {"a": [3, 2]}


def test_users_context():
    ctx = datafusion.SessionContext()
    t = LTSeq.from_dict({"a": [1, 2]}, ctx=ctx)
    assert t.ctx is ctx
    # ltseq was registered into it on first use
    ctx.from_pydict({"t": [1, 2], "k": [5, 5]}, name="x")
    assert ctx.sql("SELECT run_id(k) OVER (ORDER BY t) AS r FROM x").to_pydict() == {"r": [1, 1]}


# ---- output ----------------------------------------------------------------------------------
def test_show_prints_a_grid(t: LTSeq, capsys):
    t.show()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "shape: (3, 3)" and lines[1].startswith("+-------+")
    assert "| id    | name   | price   |" in out
    assert "| int64 | string | float64 |" in out
    assert "| 3     | Carol  | null    |" in out
    t.show(1)
    out = capsys.readouterr().out
    assert "Alice" in out and "Bob" not in out and "first 1 rows shown" in out


def test_outputs(t: LTSeq):
    assert t.count() == 3 and len(t) == 3
    assert list(t) == t.to_dicts()
    df = t.to_pandas()
    assert list(df["name"]) == ["Alice", "Bob", "Carol"]
    assert t.to_arrow().num_rows == 3
    assert [r["id"] for r in t.head(2)] == [1, 2]
    assert [r["id"] for r in t.tail(2)] == [2, 3]
    assert t.head(0).to_dicts() == []
    c = t.sort("price", desc=True).collect()
    assert [r["id"] for r in c] == [3, 2, 1]
    assert c.sort_keys == [("price", True)]
    assert "Alice" in repr(t) and "| id " in repr(t) and "| int64 " in repr(t) and "shape: (" in repr(t)
    assert "<table>" in t._repr_html_()


def test_sql_and_explain(t: LTSeq):
    sql = t.filter(lambda r: r.price > 11).sql
    assert sql.startswith("SELECT ") and '("price" > 11)' in sql
    assert "ORDER BY" in sql
    ctx = t.ctx
    assert ctx.sql(sql).to_pydict() == {"id": [2], "name": ["Bob"], "price": [12.0]}
    plan = t.explain()
    assert "logical plan" in plan and "physical plan" in plan


# ---- transforms ------------------------------------------------------------------------------
def test_filter(t: LTSeq):
    assert t.filter(lambda r: r.price > 11).to_dicts() == [{"id": 2, "name": "Bob", "price": 12.0}]
    assert [r["id"] for r in t.filter(lambda r: r.price.is_null())] == [3]
    assert [r["id"] for r in t.filter(lambda r: r.price == None)] == [3]  # noqa: E711
    assert [r["id"] for r in t.filter(lambda r: (r.id > 1) & (r.name != "Carol"))] == [2]
    with pytest.raises(TypeError, match="condition"):
        t.filter(lambda r: r.id + 1)
    with pytest.raises(TypeError, match="is_null"):
        t.filter(lambda r: r.price is None)
    with pytest.raises(TypeError):
        t.filter("id > 1")


def test_select(t: LTSeq):
    assert t.select("name", "id").columns == ["name", "id"]
    s = t.select(lambda r: [r.id, (r.price * 2).alias("p2")])
    assert s.to_dicts() == [{"id": 1, "p2": 21.0}, {"id": 2, "p2": 24.0}, {"id": 3, "p2": None}]
    assert t.select(lambda r: r.id * 10).columns == ["r.id * 10"]
    with pytest.raises(ValueError, match="twice"):
        t.select("id", "id")
    with pytest.raises(ColumnNotFoundError):
        t.select("nope")


def test_derive_forms_replace_and_snapshot():
    t = LTSeq.from_dict({"a": [1, 2, 3], "b": [10.0, 20.0, 30.0], "c": ["x", "y", "z"]}).sort("a", "b")
    out = t.derive(b=lambda r: r.b * 2, d=lambda r: r.a + r.b)
    assert out.columns == ["a", "b", "c", "d"]
    rows = out.to_dicts()
    assert [r["b"] for r in rows] == [20.0, 40.0, 60.0]
    assert [r["d"] for r in rows] == [11.0, 22.0, 33.0]  # d read the old b
    assert out.sort_keys == [("a", False)]
    out2 = t.derive(lambda r: {"e": r.c + "!", "one": 1})
    assert out2.columns == ["a", "b", "c", "e", "one"]
    assert [r["e"] for r in out2] == ["x!", "y!", "z!"]
    with pytest.raises(TypeError):
        t.derive(lambda r: r.a)
    with pytest.raises(ValueError, match="reserved"):
        t.derive(__ltseq_x=lambda r: r.a)
    assert t.with_columns(z=lambda r: r.a).columns[-1] == "z"


def test_sort_directions_nulls_and_stability():
    t = LTSeq.from_dict({"k": [2, None, 1, 2], "v": ["a", "b", "c", "d"]})
    assert [r["k"] for r in t.sort("k")] == [1, 2, 2, None]
    assert [r["k"] for r in t.sort("k", desc=True)] == [None, 2, 2, 1]
    # stable: equal keys keep the previous order
    assert [r["v"] for r in t.sort("k")] == ["c", "a", "d", "b"]
    assert [r["v"] for r in t.sort("v", desc=True).sort("k")] == ["c", "d", "a", "b"]
    assert t.sort("k").sort_keys == [("k", False)]
    assert t.sort(lambda r: r.k * 2).sort_keys is None
    assert [r["k"] for r in t.sort(lambda r: -r.k)] == [2, 2, 1, None]
    assert t.sort("k", "v", desc=[True, False]).sort_keys == [("k", True), ("v", False)]
    with pytest.raises(ValueError):
        t.sort("k", desc=[True, False])
    with pytest.raises(ColumnNotFoundError):
        t.sort("zz")


def test_sort_survives_overwriting_its_key():
    t = LTSeq.from_dict({"a": [3, 1, 2]}).sort("a")
    out = t.derive(a=lambda r: -r.a)
    assert [r["a"] for r in out] == [-1, -2, -3]  # still in the order of the old a
    assert out.sort_keys is None


def test_distinct_keeps_first_in_order():
    t = LTSeq.from_dict(
        {
            "id": [1, 1, 2, 2, 3, 3],
            "name": ["Alice", "Alice", "Bob", "Charlie", "Diana", "Diana"],
            "region": ["North", "South", "North", "North", "East", "East"],
            "value": [100, 150, 200, 250, 300, 350],
        }
    )
    assert t.distinct().count() == 6
    assert [r["value"] for r in t.distinct("id")] == [100, 200, 300]
    assert t.distinct("id", "region").count() == 4
    assert [r["value"] for r in t.sort("value", desc=True).distinct("id")] == [350, 250, 150]
    dup = LTSeq.from_dict({"a": [1, 1, None, None, 2], "b": [1, 1, 2, 2, 3]})
    assert dup.distinct().to_dicts() == [{"a": 1, "b": 1}, {"a": None, "b": 2}, {"a": 2, "b": 3}]


def test_slice_head_tail():
    t = LTSeq.from_dict({"id": [1, 2, 3, 4, 5]})
    assert [r["id"] for r in t.slice(1, 2)] == [2, 3]
    assert [r["id"] for r in t.slice(3)] == [4, 5]
    assert t.slice(10).to_dicts() == []
    assert [r["id"] for r in t.sort("id", desc=True).slice(0, 2)] == [5, 4]
    with pytest.raises(ValueError):
        t.slice(-1)
    with pytest.raises(ValueError):
        t.slice(0, -2)


def test_rename_and_drop(t: LTSeq):
    r = t.sort("id").rename({"id": "key"})
    assert r.columns == ["key", "name", "price"]
    assert r.sort_keys == [("key", False)]
    assert t.rename(name="who").columns == ["id", "who", "price"]
    assert t.drop("price").columns == ["id", "name"]
    with pytest.raises(ColumnNotFoundError):
        t.rename({"nope": "x"})
    with pytest.raises(ValueError, match="duplicate"):
        t.rename({"id": "name"})
    with pytest.raises(ValueError):
        t.drop("id", "name", "price")


def test_immutability(t: LTSeq):
    f = t.filter(lambda r: r.id > 1)
    assert t.count() == 3 and f.count() == 2
    with pytest.raises(AttributeError):
        t.x = 1


def test_assume_sorted_and_is_sorted_by():
    t = LTSeq.from_dict({"d": [1, 2, 3], "v": [5, 6, 7]}).assume_sorted("d")
    assert t.sort_keys == [("d", False)]
    assert t.is_sorted_by("d") and not t.is_sorted_by("v")
    assert [r["d"] for r in t] == [1, 2, 3]


def test_dates_and_timestamps():
    t = LTSeq.from_dict(
        {
            "d": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
            "ts": [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 2, 1, 12)],
            "s": ["2024-01-05", "2024-03-01"],
        }
    )
    assert [r["d"] for r in t.filter(lambda r: r.d > dt.date(2024, 1, 15))] == [dt.date(2024, 2, 1)]
    assert t.filter(lambda r: r.ts < dt.datetime(2024, 1, 2)).count() == 1
    assert [r["x"] for r in t.derive(x=lambda r: r.s.cast("date"))] == [dt.date(2024, 1, 5), dt.date(2024, 3, 1)]


def test_query_errors_are_python_exceptions():
    t = LTSeq.from_dict({"s": ["12", "abc"]})
    with pytest.raises(ltseq.LTSeqError, match="abc"):
        t.derive(x=lambda r: r.s.cast("int64")).to_dicts()
    assert isinstance(ltseq.QueryError("x"), ValueError)
