"""Order is the product: row order survives every transform, with several partitions and
inputs large enough to be split."""

from __future__ import annotations

import random
from pathlib import Path

import datafusion
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from ltseq import LTSeq

N = 300_000


def many_partitions_ctx(partitions: int = 4):
    config = (
        datafusion.SessionConfig()
        .with_target_partitions(partitions)
        .with_batch_size(1024)
        .set("datafusion.optimizer.repartition_file_min_size", "1024")
    )
    return datafusion.SessionContext(config)


def data() -> pa.Table:
    rng = random.Random(11)
    return pa.table(
        {
            "id": list(range(N)),
            "g": [rng.randrange(7) for _ in range(N)],
            "x": [rng.random() for _ in range(N)],
        }
    )


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return data()


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory, table) -> Path:
    p = tmp_path_factory.mktemp("order") / "big.csv"
    pacsv.write_csv(table, p)
    return p


def sources(table: pa.Table, csv_path: Path, tmp_path: Path):
    ctx = many_partitions_ctx()
    pq_path = tmp_path / "big.parquet"
    pq.write_table(table, pq_path, row_group_size=20_000)
    return {
        "csv": LTSeq.read_csv(csv_path, ctx=ctx),
        "parquet": LTSeq.read_parquet(pq_path, ctx=ctx),
        "dict": LTSeq.from_dict(table.to_pydict(), ctx=ctx),
        "pandas": LTSeq.from_pandas(table.to_pandas(), ctx=ctx),
        "arrow_batches": LTSeq.from_arrow(pa.Table.from_batches(table.to_batches(max_chunksize=4096)), ctx=ctx),
    }


def test_the_scan_really_is_split(csv_path: Path):
    ctx = many_partitions_ctx()
    t = LTSeq.read_csv(csv_path, ctx=ctx)
    plan = t.filter(lambda r: r.g > 0).explain()
    assert "input: DataSourceExec partitions=4" in plan, plan


@pytest.mark.parametrize("kind", ["csv", "parquet", "dict", "pandas", "arrow_batches"])
def test_order_through_filter_select_derive_slice(kind, table, csv_path, tmp_path):
    t = sources(table, csv_path, tmp_path)[kind]
    ids = table.column("id").to_pylist()
    gs = table.column("g").to_pylist()

    assert t.to_arrow().column("id").to_pylist() == ids

    f = t.filter(lambda r: r.g != 3)
    assert f.to_arrow().column("id").to_pylist() == [i for i, g in zip(ids, gs) if g != 3]

    s = f.select("id", lambda r: (r.x * 2).alias("x2"))
    assert s.to_arrow().column("id").to_pylist() == [i for i, g in zip(ids, gs) if g != 3]

    d = s.derive(y=lambda r: r.id % 10)
    got = d.to_arrow()
    assert got.column("id").to_pylist() == [i for i, g in zip(ids, gs) if g != 3]
    assert got.column("y").to_pylist() == [i % 10 for i, g in zip(ids, gs) if g != 3]

    sl = d.slice(1000, 5000)
    assert sl.to_arrow().column("id").to_pylist() == [i for i, g in zip(ids, gs) if g != 3][1000:6000]

    streamed = [r["id"] for r in f.head(2000)]
    assert streamed == [i for i, g in zip(ids, gs) if g != 3][:2000]
    assert [r["id"] for r in t.tail(3)] == ids[-3:]


def test_a_sorted_table_keeps_its_sort(table, csv_path, tmp_path):
    t = sources(table, csv_path, tmp_path)["csv"]
    s = t.sort("g", lambda r: r.x, desc=[False, True])
    expected = sorted(
        zip(table.column("g").to_pylist(), table.column("x").to_pylist(), table.column("id").to_pylist()),
        key=lambda r: (r[0], -r[1]),
    )
    got = s.filter(lambda r: r.id % 2 == 0).derive(z=lambda r: r.id + 1).select("id", "g").to_arrow()
    assert got.column("id").to_pylist() == [r[2] for r in expected if r[2] % 2 == 0]
    assert s.sort_keys == [("g", False), ("x", True)]  # a lambda returning a column is a plain key


def test_to_pandas_and_iteration_keep_order(table, csv_path, tmp_path):
    t = sources(table, csv_path, tmp_path)["pandas"]
    df = t.filter(lambda r: r.g == 1).to_pandas()
    expected = table.to_pandas()
    expected = expected[expected.g == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(df, expected)
    assert [r["id"] for r in t.filter(lambda r: r.g == 1)] == list(expected["id"])
