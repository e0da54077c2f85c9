"""Where tables come from: files, Arrow data, pandas and datafusion DataFrames, registered in a
context and read in their order through ltseq's ``Sequence`` operator."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping, Sequence
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


def file(ctx: Any, path: str | os.PathLike[str], kind: str, **options: Any) -> str:
    """Registers the CSV or Parquet file (or directory) ``path``; returns its name."""
    path = os.fspath(path)
    what = {"csv": "CSV", "parquet": "Parquet"}[kind]
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"no such {what} file", path)
    name = new_name(kind)
    if kind == "csv" and os.path.isfile(path) and "options" in options:
        # a file named by its path is read whatever its extension (.tsv, .txt); a directory's
        # files are those ending in .csv
        options["options"].file_extension = ""
    try:
        getattr(ctx, f"register_{kind}")(name, path, **options)
    except Exception as e:
        raise QueryError(f"could not read {what} {path!r}: {message(e)}") from e
    return name


def csv_options(
    path: str | os.PathLike[str],
    has_header: bool,
    *,
    delimiter: str = ",",
    quote: str = '"',
    escape: str | None = None,
    comment: str | None = None,
    newlines_in_values: bool = False,
    schema: pa.Schema | None = None,
    **unknown: Any,
) -> Any:
    """datafusion's CSV read options for ``read_csv``'s arguments, checked."""
    from datafusion.options import CsvReadOptions

    if unknown:
        known = "delimiter, quote, escape, comment, newlines_in_values, schema"
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
    elif newlines_in_values and os.path.isfile(path):
        schema = _csv_schema(path, has_header, delimiter, quote, escape)
    return CsvReadOptions(
        has_header=bool(has_header),
        delimiter=delimiter,
        quote=quote,
        escape=escape,
        comment=comment,
        newlines_in_values=bool(newlines_in_values),
        schema=schema,
    )


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
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    elif isinstance(data, pa.RecordBatchReader):
        data = data.read_all()
    if not isinstance(data, pa.Table):
        raise TypeError(
            f"from_arrow() takes a pyarrow Table, RecordBatch or RecordBatchReader, not {type(data).__name__}"
        )
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
