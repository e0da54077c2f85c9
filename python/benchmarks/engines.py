"""One engine's side of the benchmark: load the data into memory (``--source memory``; or, with
``--source parquet``, register the files, which every query then reads again, lazily), then run
each workload once to warm up and K more times, timed. Run by ``run.py`` in a fresh process per engine; prints one
JSON object. Every engine computes the same small results, which ``run.py`` cross-checks.

Workloads (stocks: symbol, day, close, volume; ordered by symbol, day):
- rolling_mean_20: the sum over all rows of each symbol's rolling mean of close over 20 rows,
  NULL until 20 rows are there (pandas' default) and NULLs left out of the sum.
- cum_volume: the sum over symbols of each symbol's final cumulative volume (the largest
  running total: volumes are positive).
- positive_changes: the number of rows whose close is above the previous day's close of the
  same symbol.
- rolling_max_100 / rolling_max_20: the sum of each symbol's rolling max of close over 100 / 20
  rows (partial windows at the start).
- rising_runs: per symbol, the runs of 3 or more consecutive rising closes (a close above the
  previous day's): how many, and their total length.

Workloads on clicks (watchid, userid, eventtime, url; ordered by userid, eventtime):
- sessions: the number of sessions, a new one starting where the user changes or the gap to
  the user's previous event exceeds 1800 s.

- top_urls: the 10 most frequent URLs with their counts (ties by URL).
- funnel: the number of positions where three consecutive events of one user have URLs starting
  with the three funnel prefixes, in order.

- to_arrow: the stocks table materialized as a pyarrow Table (ltseq: in its order; the SQL
  engines' SELECT * promises none): its row count and the sum of close.

Workloads on orders (order_id, product_id, quantity) and products (product_id, name, price):
- orders_link: each order linked to its product (a left join on product_id; product ids are
  unique): the sum of quantity * price and the number of orders with a product name.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

THREADS = 2
WORKLOADS = [
    "rolling_mean_20",
    "cum_volume",
    "positive_changes",
    "rolling_max_100",
    "rolling_max_20",
    "rising_runs",
    "sessions",
    "orders_link",
    "top_urls",
    "funnel",
    "to_arrow",
]
SOURCES = ["memory", "parquet"]  # tables read into memory once, or read from the files at every query
ENGINES = [
    "ltseq_dsl",
    "ltseq_natural",
    "ltseq_sql",
    "ltseq_sql_ordered",
    "ltseq_std_sql",
    "datafusion",
    "duckdb",
    "polars",
    "pandas",
]
# ltseq_std_sql: the stock engine's standard SQL (lag, row_number, sum/avg/max over ROWS frames),
# with the stored order declared and ltseq's planner, which runs those windows on its operator
SQL_FLAVOURS = {
    "datafusion": "stock",
    "ltseq_sql": "ltseq",
    "ltseq_sql_ordered": "ordered",
    "ltseq_std_sql": "ordered_standard",
}

# The SQL every SQL engine runs, with its window functions per engine.
W = "PARTITION BY symbol ORDER BY day"


def _frame(n: int) -> str:
    return f"({W} ROWS BETWEEN {n - 1} PRECEDING AND CURRENT ROW)"


STOCK_SQL = {
    "rolling_mean_20": "SELECT sum(m) FROM (SELECT CASE WHEN count(close) OVER {f20} >= 20 "
    "THEN avg(close) OVER {f20} END AS m FROM stocks) s",
    "cum_volume": "SELECT sum(c) FROM (SELECT max(c) AS c FROM (SELECT symbol, sum(volume) OVER "
    f"({W} ROWS UNBOUNDED PRECEDING) AS c FROM stocks) s GROUP BY symbol) s",
    "positive_changes": f"SELECT count(*) FROM (SELECT close - lag(close) OVER ({W}) AS d FROM stocks) s WHERE d > 0",
    "rolling_max_100": "SELECT sum(m) FROM (SELECT max(close) OVER {f100} AS m FROM stocks) s",
    "rolling_max_20": "SELECT sum(m) FROM (SELECT max(close) OVER {f20} AS m FROM stocks) s",
}
STOCK_SQL = {k: v.format(f20=_frame(20), f100=_frame(100)) for k, v in STOCK_SQL.items()}
# Gaps and islands the usual way: the difference of two row numbers identifies each run.
STOCK_SQL["rising_runs"] = (
    f"WITH a AS (SELECT symbol, day, close > lag(close) OVER ({W}) AS up FROM stocks), "
    "b AS (SELECT symbol, up, row_number() OVER (PARTITION BY symbol ORDER BY day) - "
    "row_number() OVER (PARTITION BY symbol, up ORDER BY day) AS grp FROM a) "
    "SELECT count(*), sum(n) FROM (SELECT count(*) AS n FROM b WHERE up GROUP BY symbol, grp "
    "HAVING count(*) >= 3) s"
)
STOCK_SQL["sessions"] = (
    "SELECT count(*) FROM (SELECT eventtime - lag(eventtime) OVER (PARTITION BY userid ORDER BY eventtime) "
    "AS gap FROM clicks) s WHERE gap IS NULL OR gap > 1800"
)

# A link in SQL: a LEFT JOIN (the target key is unique).
STOCK_SQL["orders_link"] = (
    "SELECT sum(o.quantity * p.price), count(p.name) FROM orders o LEFT JOIN products p ON o.product_id = p.product_id"
)
TABLES = ("stocks", "clicks", "orders", "products")
FUNNEL = ("/funnel/landing", "/funnel/signup", "/funnel/confirm")
STOCK_SQL["top_urls"] = "SELECT url, count(*) AS c FROM clicks GROUP BY url ORDER BY c DESC, url LIMIT 10"
_CW = "OVER (PARTITION BY userid ORDER BY eventtime)"
STOCK_SQL["funnel"] = (
    f"SELECT count(*) FROM (SELECT starts_with(url, '{FUNNEL[0]}') AS a, "
    f"starts_with(lead(url, 1) {_CW}, '{FUNNEL[1]}') AS b, starts_with(lead(url, 2) {_CW}, '{FUNNEL[2]}') AS c "
    "FROM clicks) s WHERE a AND b AND c"
)

LTSEQ_SQL = {
    "rolling_mean_20": f"SELECT sum(m) FROM (SELECT rolling_avg(close, 20, 20) OVER ({W}) AS m FROM stocks) s",
    "cum_volume": "SELECT sum(c) FROM (SELECT max(c) AS c FROM (SELECT symbol, cum_sum(volume) OVER "
    f"({W}) AS c FROM stocks) s GROUP BY symbol) s",
    "positive_changes": f"SELECT count(*) FROM (SELECT diff(close) OVER ({W}) AS d FROM stocks) s WHERE d > 0",
    "rolling_max_100": f"SELECT sum(m) FROM (SELECT rolling_max(close, 100) OVER ({W}) AS m FROM stocks) s",
    "rolling_max_20": f"SELECT sum(m) FROM (SELECT rolling_max(close, 20) OVER ({W}) AS m FROM stocks) s",
    # runs of rising closes: ltseq's ordered grouping over a view of the rises
    "rising_runs": "SELECT count(*), sum(n) FROM ltseq_group_ordered('rises', 'day', 'up', "
    "'count(*) AS n, first_value(up) AS up', 'symbol') WHERE up AND n >= 3",
    "sessions": "SELECT count(*) FROM (SELECT diff(eventtime) OVER (PARTITION BY userid ORDER BY eventtime) "
    "AS gap FROM clicks) s WHERE gap IS NULL OR gap > 1800",
    "orders_link": "SELECT sum(quantity * prod_price), count(prod_name) "
    "FROM ltseq_link('orders', 'products', 'product_id', 'prod')",
    "top_urls": STOCK_SQL["top_urls"],
    # the funnel: ltseq's ordered search over a view of the steps
    "funnel": "SELECT count FROM ltseq_search_pattern_count('funnel_steps', 'eventtime', 's1, s2, s3', 'userid')",
}
# The views the ltseq SQL engines' queries read.
LTSEQ_VIEWS = {
    "rises": f"SELECT symbol, day, diff(close) OVER ({W}) > 0 AS up FROM stocks",
    "funnel_steps": "SELECT userid, eventtime, "
    + ", ".join(f"starts_with(url, '{p}') AS s{i + 1}" for i, p in enumerate(FUNNEL))
    + " FROM clicks",
}
# The order the stocks and clicks are stored in (declared by the ltseq engines).
STORED_ORDER = {"stocks": ["symbol", "day"], "clicks": ["userid", "eventtime"]}


STOCK_SQL["to_arrow"] = "SELECT * FROM stocks"
LTSEQ_SQL["to_arrow"] = STOCK_SQL["to_arrow"]


def _arrow_result(table: Any) -> Any:
    """A materialized stocks table as a checkable result: its length and the sum of close (the
    SQL engines' ``SELECT *`` promises no order, so the check does not depend on it; ltseq's
    order is checked by its tests)."""
    import pyarrow.compute as pc

    return (table.num_rows, pc.sum(table.column("close")).as_py())


def _workloads(fns: dict[str, Any], to_arrow: Callable[[], Any]) -> dict[str, Callable[[], Any]]:
    """An engine's workloads from its functions named after them (``fns``: the engine's
    ``locals()``; ``rolling_max(n)`` gives both window sizes)."""
    out = {w: fns[w] for w in WORKLOADS if w in fns}
    out["rolling_mean_20"] = fns["rolling_mean"]
    out["rolling_max_100"], out["rolling_max_20"] = fns["rolling_max"](100), fns["rolling_max"](20)
    out["to_arrow"] = to_arrow
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal results; float sums may differ in the last bits between runs of a parallel engine."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def _scalar(table: Any) -> Any:
    if table.num_rows > 1:  # a small table: its rows
        return [tuple(row.values()) for row in table.to_pylist()]
    if table.num_columns > 1:
        return tuple(table.column(i)[0].as_py() for i in range(table.num_columns))
    return table.column(0)[0].as_py()


# --- engines: each returns {workload: callable returning the result} after loading -------------


def engine_datafusion(data: Path, flavour: str, source: str) -> dict[str, Callable[[], Any]]:
    """Stock DataFusion SQL (``flavour="stock"``); ltseq's SQL in a stock context
    (``"ltseq"``: its window and table functions); or the same SQL with the stored order
    declared (``"ordered"``: ``register_ordered`` in memory, ``WITH ORDER`` for Parquet) and
    ltseq's query planner (``register(ctx, planner=True)``)."""
    import datafusion
    import pyarrow.parquet as pq

    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(THREADS))
    if flavour != "stock":
        import ltseq

        ctx = ltseq.register(ctx, planner=flavour.startswith("ordered"))
    for name in TABLES:
        path = data / f"{name}.parquet"
        declared = STORED_ORDER.get(name) if flavour.startswith("ordered") else None
        if source == "parquet":  # read at every query
            if declared:
                order = ", ".join(declared)
                ctx.sql(f"CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION '{path}' WITH ORDER ({order})")
            else:
                ctx.register_parquet(name, str(path))
            continue
        table = pq.read_table(path)
        if declared:
            ltseq.register_ordered(ctx, name, table, declared)
            continue
        batches = table.to_batches(max_chunksize=max(1, -(-table.num_rows // THREADS)))
        ctx.register_record_batches(name, [[b] for b in batches] or [[]])
    if flavour != "stock":
        for name, sql in LTSEQ_VIEWS.items():
            ctx.register_view(name, ctx.sql(sql))
    queries = STOCK_SQL if flavour in ("stock", "ordered_standard") else LTSEQ_SQL
    out = {w: (lambda q=q: _scalar(ctx.sql(q).to_arrow_table())) for w, q in queries.items()}
    out["to_arrow"] = lambda: _arrow_result(ctx.sql(queries["to_arrow"]).to_arrow_table())
    return out


class ltseq_tables:  # noqa: N801 - reads like a function
    """The four tables for the ltseq engines: read into memory once (``source="memory"``), or
    read from their Parquet files again at every use (``source="parquet"``, lazy)."""

    def __init__(self, ctx: Any, data: Path, source: str) -> None:
        self._ctx, self._data, self._source = ctx, data, source
        self._memory: dict[str, Any] = {}
        if source == "memory":
            for name in TABLES:
                self._memory[name] = self._open(name)

    def _open(self, name: str) -> Any:
        import pyarrow.parquet as pq

        from ltseq import LTSeq

        path = self._data / f"{name}.parquet"
        if self._source == "memory":
            table = LTSeq.from_arrow(pq.read_table(path), ctx=self._ctx)
        else:
            table = LTSeq.read_parquet(path, ctx=self._ctx)
        order = {"stocks": ("symbol", "day"), "clicks": ("userid", "eventtime")}.get(name)
        return table.assume_sorted(*order) if order else table

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._memory[name] if self._source == "memory" else self._open(name)


def engine_ltseq_dsl(data: Path, source: str) -> dict[str, Callable[[], Any]]:
    import datafusion
    from datafusion import col
    from datafusion import functions as f

    import ltseq
    from ltseq import LTSeq

    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(THREADS))
    ltseq.register(ctx)
    # declared in the order it is stored in
    tables = ltseq_tables(ctx, data, source)

    def total(table: LTSeq, column: str) -> Any:
        df = table.to_datafusion()
        return _scalar(df.aggregate([], [f.sum(col(column))]).to_arrow_table())

    def rolling_mean() -> Any:
        return total(
            tables.stocks.derive(m=lambda r: r.close.rolling(20, min_periods=20, partition_by="symbol").mean()), "m"
        )

    def cum_volume() -> Any:
        derived = tables.stocks.derive(c=lambda r: r.volume.cum_sum(partition_by="symbol"))
        df = derived.to_datafusion()
        per_symbol = df.aggregate([col("symbol")], [f.max(col("c")).alias("c")])
        return _scalar(per_symbol.aggregate([], [f.sum(col("c"))]).to_arrow_table())

    def positive_changes() -> Any:
        return tables.stocks.filter(lambda r: r.close.diff(partition_by="symbol") > 0).count()

    def rolling_max(n: int) -> Callable[[], Any]:
        return lambda: total(tables.stocks.derive(m=lambda r: r.close.rolling(n, partition_by="symbol").max()), "m")

    def rising_runs() -> Any:
        runs = (
            tables.stocks.derive(up=lambda r: r.close.diff(partition_by="symbol") > 0)
            .group_ordered("up", partition_by="symbol")
            .agg(lambda g: {"up": g.first().up, "n": g.count()})
            .filter(lambda r: r.up & (r.n >= 3))
        )
        df = runs.to_datafusion()
        return _scalar(df.aggregate([], [f.count(col("n")), f.sum(col("n"))]).to_arrow_table())

    def sessions() -> Any:
        return len(
            tables.clicks.group_ordered(
                split=lambda r: (r.userid != r.userid.shift(1)) | (r.eventtime - r.eventtime.shift(1) > 1800)
            )
        )

    def top_urls() -> Any:
        top = tables.clicks.agg(by="url", c=lambda g: g.count()).sort("c", desc=True).slice(0, 10)
        return _scalar(top.to_arrow())

    def funnel() -> Any:
        return tables.clicks.search_pattern_count(
            *[lambda r, p=p: r.url.s.starts_with(p) for p in FUNNEL], partition_by="userid"
        )

    def orders_link() -> Any:
        linked = tables.orders.link(tables.products, on=lambda o, p: o.product_id == p.product_id, as_="prod")
        df = linked.to_datafusion()
        amount = (col("quantity") * col("prod_price")).alias("a")
        return _scalar(df.aggregate([], [f.sum(amount), f.count(col("prod_name"))]).to_arrow_table())

    return _workloads(locals(), lambda: _arrow_result(tables.stocks.to_arrow()))


def engine_ltseq_natural(data: Path, source: str) -> dict[str, Callable[[], Any]]:
    """The DSL as a new user writes it first: window expressions in ``derive`` then ``filter``,
    results materialized with ``to_arrow()`` and finished in pyarrow, no tuned operator calls."""
    import datafusion
    import pyarrow.compute as pc

    import ltseq
    from ltseq import LTSeq

    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(THREADS))
    ltseq.register(ctx)
    tables = ltseq_tables(ctx, data, source)

    def column_sum(table: LTSeq, column: str) -> Any:
        return pc.sum(table.to_arrow().column(column)).as_py()

    def rolling_mean() -> Any:
        return column_sum(
            tables.stocks.derive(m=lambda r: r.close.rolling(20, min_periods=20, partition_by="symbol").mean()), "m"
        )

    def cum_volume() -> Any:
        arrow = tables.stocks.derive(c=lambda r: r.volume.cum_sum(partition_by="symbol")).to_arrow()
        return pc.sum(arrow.group_by("symbol").aggregate([("c", "max")]).column("c_max")).as_py()

    def positive_changes() -> Any:
        return tables.stocks.derive(d=lambda r: r.close.diff(partition_by="symbol")).filter(lambda r: r.d > 0).count()

    def rolling_max(n: int) -> Callable[[], Any]:
        return lambda: column_sum(
            tables.stocks.derive(m=lambda r: r.close.rolling(n, partition_by="symbol").max()), "m"
        )

    def rising_runs() -> Any:
        runs = (
            tables.stocks.derive(up=lambda r: r.close.diff(partition_by="symbol") > 0)
            .group_ordered("up", partition_by="symbol")
            .agg(up=lambda g: g.up.first(), n=lambda g: g.count())
            .filter(lambda r: r.up & (r.n >= 3))
            .to_arrow()
        )
        return (runs.num_rows, pc.sum(runs.column("n")).as_py())

    def sessions() -> Any:
        gaps = tables.clicks.derive(prev=lambda r: r.eventtime.shift(1, partition_by="userid"))
        return gaps.filter(lambda r: r.prev.is_null() | (r.eventtime - r.prev > 1800)).count()

    def top_urls() -> Any:
        counts = tables.clicks.group_by("url").agg(c=lambda g: g.count())
        top = counts.sort("c", "url", desc=[True, False]).head(10).to_arrow()
        return [tuple(row.values()) for row in top.to_pylist()]

    def funnel() -> Any:
        a, b, c = FUNNEL
        hits = tables.clicks.filter(
            lambda r: (
                r.url.s.starts_with(a)
                & r.url.shift(-1, partition_by="userid").s.starts_with(b)
                & r.url.shift(-2, partition_by="userid").s.starts_with(c)
            )
        )
        return hits.count()

    def orders_link() -> Any:
        linked = tables.orders.link(
            tables.products, on=lambda o, p: o.product_id == p.product_id, as_="prod"
        ).to_arrow()
        amount = pc.sum(pc.multiply(linked.column("quantity"), linked.column("prod_price"))).as_py()
        return (amount, pc.count(linked.column("prod_name")).as_py())

    return _workloads(locals(), lambda: _arrow_result(tables.stocks.to_arrow()))


def engine_duckdb(data: Path, source: str) -> dict[str, Callable[[], Any]]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {THREADS}")
    kind = "TABLE" if source == "memory" else "VIEW"  # a view reads the file at every query
    for name in TABLES:
        path = str(data / f"{name}.parquet").replace("'", "''")
        con.execute(f"CREATE {kind} {name} AS SELECT * FROM read_parquet('{path}')")

    def run(q: str) -> Any:
        rows = con.execute(q).fetchall()
        if len(rows) > 1:
            return [tuple(r) for r in rows]
        row = rows[0]
        return row[0] if len(row) == 1 else tuple(row)

    out = {w: (lambda q=q: run(q)) for w, q in STOCK_SQL.items()}
    out["to_arrow"] = lambda: _arrow_result(con.execute(STOCK_SQL["to_arrow"]).to_arrow_table())
    return out


def engine_polars(data: Path, source: str) -> dict[str, Callable[[], Any]]:
    import polars as pl

    if source == "memory":
        loaded = {name: pl.read_parquet(data / f"{name}.parquet") for name in TABLES}

        def frame(name: str) -> Any:
            return loaded[name].lazy()

        engine = "auto"
    else:

        def frame(name: str) -> Any:
            return pl.scan_parquet(data / f"{name}.parquet")

        engine = "streaming"  # Polars' streaming engine, reading the files at every query

    def run(query: Any) -> Any:
        return query.collect(engine=engine)

    c = pl.col("close")

    def rolling_mean() -> Any:
        return run(frame("stocks").select(c.rolling_mean(20).over("symbol").sum())).item()

    def cum_volume() -> Any:
        per = frame("stocks").select(pl.col("symbol"), pl.col("volume").cum_sum().over("symbol").alias("c"))
        return run(per.group_by("symbol").agg(pl.col("c").max()).select(pl.col("c").sum())).item()

    def positive_changes() -> Any:
        return run(frame("stocks").select((c.diff().over("symbol") > 0).sum())).item()

    def rolling_max(n: int) -> Callable[[], Any]:
        return lambda: run(frame("stocks").select(c.rolling_max(n, min_samples=1).over("symbol").sum())).item()

    def rising_runs() -> Any:
        up = frame("stocks").select(pl.col("symbol"), (c > c.shift(1)).over("symbol").alias("up"))
        runs = up.with_columns(pl.struct("symbol", "up").rle_id().alias("r"))
        sizes = run(runs.filter(pl.col("up")).group_by("r").len().filter(pl.col("len") >= 3))
        return (sizes.height, int(sizes["len"].sum()) if sizes.height else None)

    def sessions() -> Any:
        u, e = pl.col("userid"), pl.col("eventtime")
        return run(frame("clicks").select(((u != u.shift(1)) | (e.diff() > 1800)).fill_null(True).sum())).item()

    def top_urls() -> Any:
        top = frame("clicks").group_by("url").len().sort(["len", "url"], descending=[True, False]).head(10)
        return [tuple(r) for r in run(top).rows()]

    def funnel() -> Any:
        url, u = pl.col("url"), pl.col("userid")
        hit = url.str.starts_with(FUNNEL[0])
        for k in (1, 2):
            hit = hit & url.shift(-k).str.starts_with(FUNNEL[k]) & (u.shift(-k) == u)
        return run(frame("clicks").select(hit.fill_null(False).sum())).item()

    def orders_link() -> Any:
        joined = frame("orders").join(frame("products"), on="product_id", how="left")
        row = run(joined.select((pl.col("quantity") * pl.col("price")).sum(), pl.col("name").count())).row(0)
        return (row[0], row[1])

    return _workloads(locals(), lambda: _arrow_result(run(frame("stocks")).to_arrow()))


def engine_pandas(data: Path) -> dict[str, Callable[[], Any]]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    df = pd.read_parquet(data / "stocks.parquet")
    g = df.groupby("symbol", sort=False)["close"]

    def rolling(n: int, agg: str, min_periods: int) -> Any:
        r = g.rolling(n, min_periods=min_periods)
        return float(getattr(r, agg)().sum())

    def cum_volume() -> Any:
        c = df.groupby("symbol", sort=False)["volume"].cumsum()
        return int(c.groupby(df["symbol"]).max().sum())

    clicks = pd.read_parquet(data / "clicks.parquet")  # stored ordered by (userid, eventtime)
    orders = pd.read_parquet(data / "orders.parquet")
    products = pd.read_parquet(data / "products.parquet")

    def orders_link() -> Any:
        joined = orders.merge(products, on="product_id", how="left")
        return (float((joined["quantity"] * joined["price"]).sum()), int(joined["name"].count()))

    def top_urls() -> Any:
        counts = clicks["url"].value_counts().reset_index()
        counts.columns = ["url", "c"]
        top = counts.sort_values(["c", "url"], ascending=[False, True]).head(10)
        return [(u, int(c)) for u, c in zip(top["url"], top["c"])]

    def funnel() -> Any:
        u = clicks["userid"].to_numpy()
        steps = [clicks["url"].str.startswith(p).to_numpy() for p in FUNNEL]
        n = len(u)
        if n < 3:
            return 0
        hit = (
            steps[0][: n - 2]
            & steps[1][1 : n - 1]
            & steps[2][2:]
            & (u[: n - 2] == u[1 : n - 1])
            & (u[1 : n - 1] == u[2:])
        )
        return int(hit.sum())

    def rising_runs() -> Any:
        up = (g.diff() > 0).to_numpy()
        sym = df["symbol"].to_numpy()
        new = np.ones(len(up), dtype=bool)
        new[1:] = (up[1:] != up[:-1]) | (sym[1:] != sym[:-1])
        rid = np.cumsum(new)
        sizes = pd.Series(rid[up]).value_counts()
        sizes = sizes[sizes >= 3]
        return (int(len(sizes)), int(sizes.sum()) if len(sizes) else None)

    def sessions() -> Any:
        u = clicks["userid"].to_numpy()
        e = clicks["eventtime"].to_numpy()
        new = np.ones(len(u), dtype=bool)
        new[1:] = (u[1:] != u[:-1]) | (e[1:] - e[:-1] > 1800)
        return int(new.sum())

    return {
        "rolling_mean_20": lambda: rolling(20, "mean", 20),
        "cum_volume": cum_volume,
        "positive_changes": lambda: int((g.diff() > 0).sum()),
        "rolling_max_100": lambda: rolling(100, "max", 1),
        "rolling_max_20": lambda: rolling(20, "max", 1),
        "rising_runs": rising_runs,
        "sessions": sessions,
        "orders_link": orders_link,
        "top_urls": top_urls,
        "funnel": funnel,
        "to_arrow": lambda: _arrow_result(pa.Table.from_pandas(df, preserve_index=False)),
    }


def load(engine: str, data: Path, source: str) -> dict[str, Callable[[], Any]]:
    if engine == "ltseq_dsl":
        return engine_ltseq_dsl(data, source)
    if engine == "ltseq_natural":
        return engine_ltseq_natural(data, source)
    if engine in SQL_FLAVOURS:
        return engine_datafusion(data, SQL_FLAVOURS[engine], source)
    if engine == "duckdb":
        return engine_duckdb(data, source)
    if engine == "polars":
        return engine_polars(data, source)
    if engine == "pandas":
        if source != "memory":
            raise SystemExit("pandas has no lazy reader: it runs with --source memory only")
        return engine_pandas(data)
    raise SystemExit(f"unknown engine {engine!r}; engines: {ENGINES}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", required=True, choices=ENGINES)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", choices=SOURCES, default="memory")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = load(args.engine, args.data, args.source)
    out: dict[str, Any] = {"engine": args.engine, "load_s": time.perf_counter() - start, "workloads": {}}
    for w in args.workloads.split(","):
        fn = runs[w]
        result = fn()  # warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            again = fn()
            times.append(time.perf_counter() - t0)
            if not _same(again, result):
                raise SystemExit(f"{args.engine}/{w}: result changed between runs: {result!r} then {again!r}")
        out["workloads"][w] = {
            "result": result,
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
        }
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(out, sys.stdout, default=float)
    sys.stdout.write("\n")


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", str(THREADS))
    main()
