"""Writing and streaming out: Parquet, CSV and newline-delimited JSON files in the table's order
(one file, or Hive-style folders per key, each in order), read back equal; batches that stream
in order with an exact size; Polars in and out."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
from pathlib import Path

import datafusion
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import ColumnNotFoundError, LTSeq


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    return ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4)))


def _source(tmp_path: Path, ctx, n: int = 20000) -> tuple[LTSeq, list[dict]]:
    rng = random.Random(5)
    rows = [{"t": rng.randrange(1000), "k": rng.choice(["a", "b", None]), "v": rng.random()} for _ in range(n)]
    table = pa.Table.from_pylist(rows)
    folder = tmp_path / "src"
    folder.mkdir()
    for p in range(4):
        pq.write_table(table.slice(p * n // 4, n // 4), folder / f"p{p}.parquet", row_group_size=900)
    t = LTSeq.read_parquet(str(folder), ctx=ctx).sort("t")
    return t, sorted(rows, key=lambda r: r["t"])


def test_parquet_round_trip_keeps_the_order(tmp_path: Path, ctx) -> None:
    t, want = _source(tmp_path, ctx)
    for codec in ("zstd", "snappy", "uncompressed"):
        out = tmp_path / f"out-{codec}.parquet"
        t.write_parquet(out, compression=codec)
        assert out.is_file()
        assert pq.read_table(out).to_pylist() == want
        assert LTSeq.read_parquet(out, ctx=ctx).to_dicts() == want


def test_csv_and_json_round_trip(tmp_path: Path, ctx) -> None:
    t, want = _source(tmp_path, ctx, n=3000)
    t.write_csv(tmp_path / "out.csv")
    back = pacsv.read_csv(tmp_path / "out.csv").to_pylist()
    assert [r["t"] for r in back] == [r["t"] for r in want]
    assert [r["v"] for r in back] == pytest.approx([r["v"] for r in want])
    t.write_json(tmp_path / "out.json")
    lines = (tmp_path / "out.json").read_text().splitlines()
    assert [json.loads(line)["t"] for line in lines] == [r["t"] for r in want]
    assert [json.loads(line).get("k") for line in lines] == [r["k"] for r in want]
    t.write_csv(tmp_path / "noheader.csv", has_header=False)
    assert (tmp_path / "noheader.csv").read_text().splitlines()[0].split(",")[0] == str(want[0]["t"])


def test_partitioned_writes_keep_each_keys_rows_in_order(tmp_path: Path, ctx) -> None:
    t, want = _source(tmp_path, ctx)
    t = t.filter(lambda r: r.k.is_not_null())
    folder = tmp_path / "by_k"
    t.write_parquet(folder, partition_by="k")
    for key in ("a", "b"):
        files = sorted((folder / f"k={key}").glob("*.parquet"))
        assert files, key
        got = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist()
        expected = [{"t": r["t"], "v": r["v"]} for r in want if r["k"] == key]
        assert got == expected or sorted(got, key=lambda r: (r["t"], r["v"])) == sorted(
            expected, key=lambda r: (r["t"], r["v"])
        )
        if len(files) == 1:
            assert got == expected
    assert ds.dataset(folder, partitioning="hive").count_rows() == len([r for r in want if r["k"] is not None])


def test_every_common_type_round_trips(tmp_path: Path, ctx) -> None:
    table = pa.table(
        {
            "i8": pa.array([1, None, -3], pa.int8()),
            "u32": pa.array([1, 2, None], pa.uint32()),
            "i64": pa.array([2**62, None, -1], pa.int64()),
            "f32": pa.array([1.5, float("nan"), None], pa.float32()),
            "f64": pa.array([1e300, float("-inf"), None]),
            "s": pa.array(["x", None, "ünï"]),
            "b": pa.array([b"\x00\x01", None, b""]),
            "bool": pa.array([True, None, False]),
            "d": pa.array([dt.date(2024, 1, 1), None, dt.date(1969, 12, 31)]),
            "ts": pa.array(
                [dt.datetime(2024, 1, 1, 1, 2, 3, 456789), None, dt.datetime(1970, 1, 1)], pa.timestamp("us")
            ),
            "tz": pa.array([dt.datetime(2024, 1, 1, 12), None, dt.datetime(2000, 1, 1)], pa.timestamp("ms", tz="UTC")),
            "dec": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(10, 2)),
        }
    )
    t = LTSeq.from_arrow(table, ctx=ctx)
    t.write_parquet(tmp_path / "types.parquet")
    back = pq.read_table(tmp_path / "types.parquet")
    for name in table.column_names:
        got, exp = back.column(name), table.column(name)
        assert got.type == exp.type or name in ("s", "b"), (name, got.type)
        assert got.to_pylist() == exp.to_pylist() or name == "f32", name
    assert str(back.column("f32").to_pylist()[1]) == "nan"


def test_iter_batches_streams_in_order_with_an_exact_size(tmp_path: Path, ctx) -> None:
    t, want = _source(tmp_path, ctx)
    batches = list(t.iter_batches(batch_size=777))
    assert all(b.num_rows == 777 for b in batches[:-1]) and 0 < batches[-1].num_rows <= 777
    assert pa.Table.from_batches(batches).to_pylist() == want
    assert pa.Table.from_batches(list(t.iter_batches())).to_pylist() == want
    assert list(t.filter(lambda r: r.t < 0).iter_batches(10)) == []
    with pytest.raises(ValueError, match="batch_size"):
        t.iter_batches(0)


def test_polars_in_and_out(ctx) -> None:
    df = pl.DataFrame({"a": [3, 1, 2], "b": ["x", None, "z"]})
    t = LTSeq.from_polars(df, ctx=ctx)
    assert t.to_dicts() == df.to_dicts()
    out = t.sort("a").to_polars()
    assert isinstance(out, pl.DataFrame)
    assert out.to_dicts() == df.sort("a").to_dicts()


def test_write_errors_are_clear(tmp_path: Path, ctx) -> None:
    t = LTSeq.from_dict({"k": [1], "v": [2]}, ctx=ctx)
    with pytest.raises(ValueError, match="compression must be one of"):
        t.write_parquet(tmp_path / "x.parquet", compression="lzo")
    with pytest.raises(ColumnNotFoundError, match="nope"):
        t.write_parquet(tmp_path / "x", partition_by="nope")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        t.write_csv(tmp_path / "missing" / "x.csv")
    with pytest.raises(TypeError, match="takes a path"):
        t.write_json(42)


def test_an_empty_result_writes_an_empty_file_and_nested_tables_materialize(tmp_path: Path, ctx) -> None:
    t = LTSeq.from_dict({"k": [1, 1, 2], "v": [1.0, 2.0, 3.0]}, ctx=ctx).sort("k")
    t.filter(lambda r: r.v > 10).write_parquet(tmp_path / "empty.parquet")
    back = pq.read_table(tmp_path / "empty.parquet")
    assert back.num_rows == 0 and back.column_names == ["k", "v"]
    nested = t.group_ordered(lambda r: r.k)
    assert nested.to_arrow().column("__group_id__").to_pylist() == [1, 1, 2]
    assert list(nested.to_pandas()["v"]) == [1.0, 2.0, 3.0]
