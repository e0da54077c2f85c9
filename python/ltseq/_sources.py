"""Where tables come from: files, Arrow data, pandas and datafusion DataFrames, registered in a
context and read in their order through ltseq's ``Sequence`` operator."""

from __future__ import annotations

import errno
import glob
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from ._relation import ORDINAL, Rel, Source, check_user_name, message, new_name, plan_schema
from ._sql import quote_ident
from .exceptions import QueryError
from .register import register_sequence


def stored(ctx: Any, name: str) -> Rel:
    """The relation of the table registered as ``name``, read in its order through ltseq's
    ``Sequence`` operator (registered beside it as ``<name>_seq``)."""
    seq_name = name + "_seq"
    source = Source(ctx, seq_name, name)
    input_schema = plan_schema(ctx, f"SELECT * FROM {quote_ident(name)}")
    for field in input_schema:
        check_user_name(field.name, "column name")
    try:
        register_sequence(ctx, seq_name, name, ordinal=ORDINAL)
    except Exception as e:
        raise QueryError(message(e)) from e
    sql = f"SELECT * FROM {quote_ident(seq_name)}"
    schema = plan_schema(ctx, sql)
    visible = pa.schema([f for f in schema if f.name != ORDINAL])
    return Rel(sql, visible, (ORDINAL,), ((ORDINAL, False),), None, (source,))


_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
_WHAT = {"csv": "CSV", "parquet": "Parquet", "json": "JSON"}


def files(ctx: Any, paths: Any, kind: str, options: Callable[[str], dict[str, Any]]) -> str:
    """Registers the ``kind`` files ``paths`` names (a path, a directory, a glob, an object-store
    URL, or a list of any of them, read one after another in the list's order), each with the
    reader options ``options(path)``; returns the table's name."""
    if isinstance(paths, (str, os.PathLike)):
        return _file(ctx, os.fspath(paths), kind, options)
    if not isinstance(paths, Sequence) or isinstance(paths, bytes):
        raise TypeError(f"read_{kind}() takes a path or a list of paths, not {type(paths).__name__}")
    names = [_file(ctx, os.fspath(p), kind, options) for p in paths]
    if not names:
        raise ValueError(f"read_{kind}() got an empty list of paths")
    if len(names) == 1:
        return names[0]
    first = plan_schema(ctx, f"SELECT * FROM {quote_ident(names[0])}")
    for p, name in zip(paths[1:], names[1:]):
        other = plan_schema(ctx, f"SELECT * FROM {quote_ident(name)}")
        if other.names != first.names:
            raise ValueError(
                f"read_{kind}(): {os.fspath(p)!r} has the columns {other.names}, "
                f"the first file {first.names}; files read together need the same columns"
            )
    # the files' rows one after another: a UNION ALL's partitions are its inputs' in order
    union = " UNION ALL ".join(f"SELECT * FROM {quote_ident(n)}" for n in names)
    name = new_name(kind)
    try:
        ctx.register_view(name, ctx.sql(union))
    except Exception as e:
        raise QueryError(f"could not read the {_WHAT[kind]} files {[os.fspath(p) for p in paths]}: {message(e)}") from e
    return name


def _file(ctx: Any, path: str, kind: str, options: Callable[[str], dict[str, Any]]) -> str:
    what = _WHAT[kind]
    _check_exists(path, what)
    name = new_name(kind)
    try:
        getattr(ctx, f"register_{kind}")(name, path, **options(path))
    except Exception as e:
        raise QueryError(f"could not read {what} {path!r}: {message(e)}") from e
    return name


def _check_exists(path: str, what: str) -> None:
    """A missing local file is ``FileNotFoundError`` naming it; so is a glob matching nothing.
    An object-store URL (``s3://...``) is left to DataFusion and the context's object stores."""
    if "://" in path or os.path.exists(path):
        return
    if any(c in path for c in "*?[") and glob.glob(path):
        return
    raise FileNotFoundError(errno.ENOENT, f"no such {what} file", path)


def _named_file(path: str) -> bool:
    """Whether ``path`` names files itself (a file, or a glob): read whatever their extension,
    where a directory's files are those ending in the reader's extension."""
    return "://" not in path and not os.path.isdir(path)


def compression_of(path: str, given: str | None, kind: str) -> str | None:
    """The compression of ``path``: ``given`` (``"gzip"``, ``"bz2"``, ``"xz"``, ``"zstd"``,
    ``None`` for none), or by its extension (``.gz``, ``.bz2``, ``.xz``, ``.zst``)."""
    if given is not None:
        if given not in _COMPRESSION.values():
            names = sorted(_COMPRESSION.values())
            raise ValueError(f"read_{kind}(): compression must be one of {names}, got {given!r}")
        return given
    return _COMPRESSION.get(os.path.splitext(path)[1].lower())


def csv_options(
    has_header: bool,
    *,
    delimiter: str = ",",
    quote: str = '"',
    escape: str | None = None,
    comment: str | None = None,
    newlines_in_values: bool = False,
    schema: pa.Schema | None = None,
    file_extension: str = ".csv",
    compression: str | None = None,
    **unknown: Any,
) -> Callable[[str], dict[str, Any]]:
    """datafusion's CSV read options for ``read_csv``'s arguments, checked, as a function of
    the path read."""
    from datafusion.options import CsvReadOptions

    if unknown:
        known = "delimiter, quote, escape, comment, newlines_in_values, schema, file_extension, compression"
        raise TypeError(f"read_csv() got unknown options {sorted(unknown)}; its options are {known}")
    for arg, value in (("delimiter", delimiter), ("quote", quote), ("escape", escape), ("comment", comment)):
        if value is None and arg in ("escape", "comment"):
            continue
        if not isinstance(value, str) or len(value) != 1 or not value.isascii():
            raise ValueError(f"read_csv(): {arg} must be one ASCII character, got {value!r}")
    if schema is not None and not isinstance(schema, pa.Schema):
        raise TypeError(f"read_csv(): schema must be a pyarrow.Schema, not {type(schema).__name__}")
    if schema is not None:
        for field in schema:
            check_user_name(field.name, "column name")
    if not isinstance(file_extension, str):
        raise TypeError(f"read_csv(): file_extension must be a string, not {type(file_extension).__name__}")
    compression_of(file_extension, compression, "csv")  # an unknown name is an error now

    def options(path: str) -> dict[str, Any]:
        compressed = compression_of(path if _named_file(path) else file_extension, compression, "csv")
        inferred = schema
        if inferred is None and newlines_in_values and os.path.isfile(path) and compressed is None:
            inferred = _csv_schema(path, has_header, delimiter, quote, escape)
        read = CsvReadOptions(
            has_header=bool(has_header),
            delimiter=delimiter,
            quote=quote,
            escape=escape,
            comment=comment,
            newlines_in_values=bool(newlines_in_values),
            schema=inferred,
            file_extension="" if _named_file(path) else file_extension,
            file_compression_type=compressed or "",
        )
        return {"options": read}

    return options


def json_options(
    *,
    schema: pa.Schema | None = None,
    file_extension: str = ".json",
    compression: str | None = None,
    schema_infer_max_records: int = 1000,
) -> Callable[[str], dict[str, Any]]:
    """datafusion's JSON (newline-delimited) read options, checked, as a function of the path."""
    if schema is not None and not isinstance(schema, pa.Schema):
        raise TypeError(f"read_json(): schema must be a pyarrow.Schema, not {type(schema).__name__}")
    if not isinstance(file_extension, str):
        raise TypeError(f"read_json(): file_extension must be a string, not {type(file_extension).__name__}")
    if not isinstance(schema_infer_max_records, int) or schema_infer_max_records < 1:
        raise ValueError(
            f"read_json(): schema_infer_max_records must be a positive integer, got {schema_infer_max_records!r}"
        )
    compression_of(file_extension, compression, "json")

    def options(path: str) -> dict[str, Any]:
        compressed = compression_of(path if _named_file(path) else file_extension, compression, "json")
        return {
            "schema": schema,
            "schema_infer_max_records": schema_infer_max_records,
            "file_extension": "" if _named_file(path) else file_extension,
            "file_compression_type": compressed,
        }

    return options


def parquet_options(path: str) -> dict[str, Any]:
    """datafusion's Parquet read options for ``path``."""
    return {"file_extension": "" if _named_file(path) else ".parquet"}


def _csv_schema(
    path: str | os.PathLike[str], has_header: bool, delimiter: str, quote: str, escape: str | None
) -> pa.Schema:
    """The column types of a CSV file whose quoted values span lines, inferred by pyarrow from
    its first block: DataFusion's schema inference reads such a file line by line and fails."""
    import pyarrow.csv as pcsv

    parse = pcsv.ParseOptions(
        delimiter=delimiter,
        quote_char=quote,
        escape_char=escape or False,
        newlines_in_values=True,
    )
    read = pcsv.ReadOptions(autogenerate_column_names=not has_header)
    try:
        with pcsv.open_csv(os.fspath(path), read_options=read, parse_options=parse) as reader:
            schema = reader.schema
    except (pa.ArrowInvalid, OSError) as e:
        raise QueryError(f"could not read CSV {os.fspath(path)!r}: {e}") from e
    if not has_header:
        schema = pa.schema([f.with_name(f"column_{i + 1}") for i, f in enumerate(schema)])
    return schema


def arrow(ctx: Any, data: Any) -> str:
    """Registers a ``pyarrow.Table`` (or record batch, or reader) as one in-memory partition,
    batches in order; returns its name."""
    data = arrow_table(data, "from_arrow()")
    for field in data.schema:
        check_user_name(field.name, "column name")
    if len(set(data.column_names)) != len(data.column_names):
        raise ValueError(f"duplicate column names: {data.column_names}")
    batches = data.to_batches()
    if not batches:
        batches = [pa.RecordBatch.from_pylist([], schema=data.schema)]
    name = new_name("mem")
    ctx.register_record_batches(name, [batches])
    return name


def arrow_table(data: Any, who: str) -> pa.Table:
    """``data`` as a ``pyarrow.Table``: a Table, RecordBatch or RecordBatchReader, or any
    object exporting Arrow data (``__arrow_c_stream__``: a Polars or datafusion DataFrame, a
    DuckDB relation; ``__arrow_c_array__``: a record batch of another library)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    try:
        if hasattr(data, "__arrow_c_stream__"):
            return pa.RecordBatchReader.from_stream(data).read_all()
        if hasattr(data, "__arrow_c_array__"):
            return pa.Table.from_batches([pa.record_batch(data)])
    except Exception as e:  # the exporter's own error (a failing query, a non-struct array)
        raise QueryError(f"{who}: could not read the Arrow data of a {type(data).__name__}: {message(e)}") from e
    raise TypeError(
        f"{who} takes a pyarrow Table, RecordBatch or RecordBatchReader, or an object exporting Arrow data "
        f"(__arrow_c_stream__: a Polars DataFrame, a DuckDB relation, ...), not {type(data).__name__}"
    )


def dict_table(data: Mapping[str, Sequence[Any]]) -> pa.Table:
    """``{column: values}`` as a ``pyarrow.Table``."""
    if not isinstance(data, Mapping):
        raise TypeError(f"from_dict() takes a dict of columns, not {type(data).__name__}")
    if not data:
        raise ValueError("from_dict() needs at least one column")
    for name in data:
        if not isinstance(name, str):
            raise TypeError(f"from_dict(): column names must be strings, got {name!r} ({type(name).__name__})")
    lengths = {k: len(v) for k, v in data.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"from_dict(): columns have different lengths: {lengths}")
    try:
        return pa.table(dict(data))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise TypeError(f"from_dict(): {e}") from e


def rows_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema | None) -> pa.Table:
    """Row dicts as a ``pyarrow.Table``: the columns are every key of any row, in the order
    they first appear (a row without a key has NULL there), or those of ``schema``, where a key
    of no column is an error."""
    rows = list(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"from_rows(): row {i} is a {type(row).__name__}, not a dict")
    if schema is None:
        if not rows:
            raise ValueError("from_rows() needs a schema when there are no rows")
        names = list(dict.fromkeys(k for row in rows for k in row))
        for k in names:
            if not isinstance(k, str):
                raise TypeError(f"from_rows(): column names are strings, not {type(k).__name__} ({k!r})")
        return pa.table({k: [row.get(k) for row in rows] for k in names})
    extra = sorted({k for row in rows for k in row} - set(schema.names), key=str)
    if extra:
        raise ValueError(f"from_rows(): keys {extra} are not columns of the schema {schema.names}")
    return pa.Table.from_pylist(rows, schema=schema)


def pandas_table(df: Any) -> pa.Table:
    """A pandas DataFrame as a ``pyarrow.Table`` (the index is not kept)."""
    try:
        import pandas as pd  # an optional dependency, imported when used
    except ImportError as e:  # pragma: no cover
        raise ImportError("from_pandas() needs pandas installed") from e
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"from_pandas() takes a pandas DataFrame, not {type(df).__name__}")
    return pa.Table.from_pandas(df, preserve_index=False)


def dataframe(ctx: Any, df: Any) -> str:
    """Registers a datafusion ``DataFrame`` as a view; returns its name."""
    name = new_name("df")
    try:
        ctx.register_view(name, df)
    except Exception as e:
        raise TypeError(f"from_datafusion() takes a datafusion DataFrame: {message(e)}") from e
    return name
