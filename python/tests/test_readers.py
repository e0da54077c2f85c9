"""Reading what DataFusion reads: globs, lists of files, directories, compressed CSV and JSON,
newline-delimited JSON, and any object exporting Arrow data; row order is the files' (a list in
its order), also with several target partitions; a missing file or glob is
``FileNotFoundError`` naming it."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import datafusion
import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import LTSeq, QueryError


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    return ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4)))


def _parts(tmp_path: Path, n: int = 3, rows: int = 5000) -> list[pa.Table]:
    tables = [pa.table({"i": list(range(p * rows, (p + 1) * rows)), "v": [float(p)] * rows}) for p in range(n)]
    for p, t in enumerate(tables):
        pq.write_table(t, tmp_path / f"part-{p}.parquet", row_group_size=700)
    return tables


def test_glob_and_directory_read_the_files_in_path_order(tmp_path: Path, ctx) -> None:
    tables = _parts(tmp_path)
    expected = pa.concat_tables(tables).to_pydict()
    assert LTSeq.read_parquet(tmp_path / "part-*.parquet", ctx=ctx).to_arrow().to_pydict() == expected
    assert LTSeq.read_parquet(str(tmp_path), ctx=ctx).to_arrow().to_pydict() == expected


def test_a_list_of_files_is_read_in_the_lists_order(tmp_path: Path, ctx) -> None:
    tables = _parts(tmp_path)
    paths = [tmp_path / "part-2.parquet", tmp_path / "part-0.parquet", str(tmp_path / "part-1.parquet")]
    got = LTSeq.read_parquet(paths, ctx=ctx)
    assert got.to_arrow().to_pydict() == pa.concat_tables([tables[2], tables[0], tables[1]]).to_pydict()
    assert got.head(2).to_arrow().column("i").to_pylist() == [10000, 10001]
    assert got.filter(lambda r: r.v < 2).head(1).to_arrow().column("i").to_pylist() == [0]


def test_missing_paths_are_file_not_found(tmp_path: Path) -> None:
    _parts(tmp_path, 1)
    for path in [tmp_path / "nope.parquet", tmp_path / "nope-*.parquet"]:
        with pytest.raises(FileNotFoundError, match="nope"):
            LTSeq.read_parquet(path)
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        LTSeq.read_parquet([tmp_path / "part-0.parquet", tmp_path / "nope.parquet"])
    with pytest.raises(ValueError, match="empty list"):
        LTSeq.read_parquet([])
    with pytest.raises(TypeError, match="path or a list"):
        LTSeq.read_parquet(3)


def test_files_with_different_columns_are_an_error(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"b": [1]}), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="same columns"):
        LTSeq.read_parquet([tmp_path / "a.parquet", tmp_path / "b.parquet"])


def test_an_object_store_url_goes_to_datafusion() -> None:
    with pytest.raises(QueryError, match="object store"):
        LTSeq.read_parquet("s3://ltseq-no-such-bucket/x.parquet")


def test_compressed_csv_by_extension_or_option(tmp_path: Path, ctx) -> None:
    text = "k,v\n" + "".join(f"{i},{i / 2}\n" for i in range(3000))
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "b.dat").write_bytes(bz2.compress(text.encode()))
    expected = {"k": list(range(3000)), "v": [i / 2 for i in range(3000)]}
    assert LTSeq.read_csv(tmp_path / "a.csv.gz", ctx=ctx).to_arrow().to_pydict() == expected
    assert LTSeq.read_csv(tmp_path / "b.dat", compression="bz2", ctx=ctx).to_arrow().to_pydict() == expected
    with pytest.raises(ValueError, match="compression must be one of"):
        LTSeq.read_csv(tmp_path / "a.csv.gz", compression="zip")


def test_csv_directory_with_a_file_extension(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text("a;b\n1;x\n")
    (tmp_path / "2.txt").write_text("a;b\n2;y\n")
    (tmp_path / "skip.csv").write_text("other\n9\n")
    got = LTSeq.read_csv(tmp_path, delimiter=";", file_extension=".txt").to_arrow().to_pydict()
    assert got == {"a": [1, 2], "b": ["x", "y"]}


def test_read_json_lines(tmp_path: Path, ctx) -> None:
    rows = [{"i": i, "s": f"s{i}", "x": None if i % 3 == 0 else i / 4} for i in range(2000)]
    (tmp_path / "a.json").write_text("\n".join(json.dumps(r) for r in rows))
    got = LTSeq.read_json(tmp_path / "a.json", ctx=ctx)
    assert got.to_arrow().to_pylist() == rows
    (tmp_path / "b.ndjson.gz").write_bytes(gzip.compress(b'{"i": 1}\n{"i": 2}\n'))
    assert LTSeq.read_json(tmp_path / "b.ndjson.gz").to_arrow().to_pydict() == {"i": [1, 2]}
    schema = pa.schema([("i", pa.int32()), ("s", pa.string()), ("x", pa.float64())])
    typed = LTSeq.read_json(tmp_path / "a.json", schema=schema)
    assert typed.to_arrow().schema.field("i").type == pa.int32()
    with pytest.raises(FileNotFoundError):
        LTSeq.read_json(tmp_path / "none.json")
    with pytest.raises(TypeError):
        LTSeq.read_json(tmp_path / "a.json", delimiter=",")


def test_from_arrow_takes_any_arrow_exporter() -> None:
    data = pa.table({"a": [3, 1, 2], "b": ["x", None, "z"]})
    assert LTSeq.from_arrow(pl.from_arrow(data)).to_arrow().to_pydict() == data.to_pydict()
    rel = duckdb.sql("SELECT * FROM (VALUES (3, 'x'), (1, NULL), (2, 'z')) t(a, b)")
    assert LTSeq.from_arrow(rel).to_arrow().to_pydict() == data.to_pydict()
    df = datafusion.SessionContext().from_arrow(data)
    assert LTSeq.from_arrow(df).to_arrow().to_pydict() == data.to_pydict()

    class Batch:  # an exporter of one record batch only
        def __arrow_c_array__(self, requested_schema=None):
            return data.to_batches()[0].__arrow_c_array__(requested_schema)

    assert LTSeq.from_arrow(Batch()).to_arrow().to_pydict() == data.to_pydict()
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        LTSeq.from_arrow([1, 2, 3])
