"""Getting rows out of a table, in its order: Arrow, pandas, Polars and dicts, batches that
stream, and files (Parquet, CSV, newline-delimited JSON) written by DataFusion's writers.

Every output reads the table through ltseq's Output operator, which gives the rows in the
table's order as one stream; the writers write that stream as it comes (one file, or with
``partition_by`` one Hive-style folder per key, each file in order), so a table larger than
memory is written without being held.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ._relation import query_error
from .exceptions import ColumnNotFoundError, LTSeqError

if TYPE_CHECKING:  # pragma: no cover
    from .table import LTSeq

_PARQUET_COMPRESSION = ("zstd", "snappy", "gzip", "brotli", "lz4", "lz4_raw", "uncompressed", "none")


def _partition_columns(t: LTSeq, partition_by: Any, who: str) -> list[str]:
    if partition_by is None:
        return []
    cols = [partition_by] if isinstance(partition_by, str) else partition_by
    if not isinstance(cols, Sequence) or not cols or not all(isinstance(c, str) for c in cols):
        raise TypeError(f"{who}: partition_by must be a column name or a non-empty list of names, not {partition_by!r}")
    for c in cols:
        if c not in t.columns:
            raise ColumnNotFoundError(c, t.columns, where=f"{who} partition_by=")
    if len(cols) == len(t.columns):
        raise ValueError(f"{who}: partition_by cannot take every column (the files would have none)")
    return list(cols)


def _write(t: LTSeq, kind: str, path: Any, partition_by: Any, write: Any) -> None:
    """Writes ``t`` in its order with ``write(df, path, options)`` (a DataFusion writer)."""
    from datafusion import DataFrameWriteOptions

    who = f"write_{kind}()"
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{who} takes a path, not {type(path).__name__}")
    cols = _partition_columns(t, partition_by, who)
    target = os.fspath(path)
    if cols:
        options = DataFrameWriteOptions(partition_by=cols)
        os.makedirs(target, exist_ok=True)
    else:
        options = DataFrameWriteOptions(single_file_output=True)
        parent = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"{who}: the folder {parent!r} does not exist")
    df, source = t._output()
    try:
        write(df, target, options)
    except LTSeqError:
        raise
    except Exception as e:
        raise query_error(e, t._final_sql()) from e
    del source


class Outputs:
    """The outputs of ``LTSeq`` (mixed into it)."""

    __slots__ = ()

    def to_pandas(self: Any) -> Any:
        """Runs the query and returns a pandas ``DataFrame``, in order."""
        return self.to_arrow().to_pandas()

    def to_polars(self: Any) -> Any:
        """Runs the query and returns a Polars ``DataFrame``, in order (read from the Arrow
        stream, without a copy where Polars can)."""
        import polars as pl

        frame = pl.DataFrame(self)
        return frame

    def to_dicts(self: Any) -> list[dict[str, Any]]:
        """Runs the query and returns one dict per row (NULL is ``None``), in order."""
        rows: list[dict[str, Any]] = self.to_arrow().to_pylist()
        return rows

    def iter_batches(self: Any, batch_size: int | None = None) -> Iterator[pa.RecordBatch]:
        """Yields the rows as ``pyarrow.RecordBatch``es, in order, as the query produces them
        (the table is never held whole). With ``batch_size`` every batch but the last has
        exactly that many rows."""
        if batch_size is not None and (
            not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
        ):
            raise ValueError(f"iter_batches(): batch_size must be an integer >= 1 or None, got {batch_size!r}")
        return _batches(self, batch_size)

    def write_parquet(self: Any, path: Any, compression: str = "zstd", *, partition_by: Any = None) -> None:
        """Writes the rows in order to the Parquet file ``path`` (``compression``: ``zstd``,
        ``snappy``, ``gzip``, ``brotli``, ``lz4``, ``lz4_raw`` or ``uncompressed``). With
        ``partition_by``, ``path`` is a folder holding one Hive-style folder per key
        (``k=value/``), the key columns left out of the files, each file in order."""
        if not isinstance(compression, str) or compression.lower() not in _PARQUET_COMPRESSION:
            raise ValueError(f"write_parquet(): compression must be one of {', '.join(_PARQUET_COMPRESSION)}")
        codec = "uncompressed" if compression.lower() == "none" else compression.lower()
        _write(self, "parquet", path, partition_by, lambda df, p, o: df.write_parquet(p, codec, write_options=o))

    def write_csv(self: Any, path: Any, *, has_header: bool = True, partition_by: Any = None) -> None:
        """Writes the rows in order to the CSV file ``path`` (a header line unless
        ``has_header=False``; NULL is an empty field); ``partition_by`` as in ``write_parquet``."""
        if not isinstance(has_header, bool):
            raise TypeError("write_csv(): has_header must be True or False")
        _write(self, "csv", path, partition_by, lambda df, p, o: df.write_csv(p, has_header, write_options=o))

    def write_json(self: Any, path: Any, *, partition_by: Any = None) -> None:
        """Writes the rows in order to ``path`` as newline-delimited JSON (one object per row,
        NULL fields left out); ``partition_by`` as in ``write_parquet``."""
        _write(self, "json", path, partition_by, lambda df, p, o: df.write_json(p, write_options=o))


def _batches(t: LTSeq, batch_size: int | None) -> Iterator[pa.RecordBatch]:
    df, source = t._output()
    pending: list[pa.RecordBatch] = []
    held = 0
    try:
        for item in df.execute_stream():
            batch = item.to_pyarrow()
            if batch_size is None:
                if batch.num_rows:
                    yield batch
                continue
            pending.append(batch)
            held += batch.num_rows
            while held >= batch_size:
                table = pa.Table.from_batches(pending, schema=batch.schema).combine_chunks()
                yield from table.slice(0, batch_size).to_batches()
                rest = table.slice(batch_size)
                pending, held = rest.to_batches(), rest.num_rows
    except LTSeqError:
        raise
    except Exception as e:
        raise query_error(e, t._final_sql()) from e
    if held:
        yield from pa.Table.from_batches(pending).combine_chunks().to_batches()
    del source
