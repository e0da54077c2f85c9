"""Deterministic benchmark data (fixed seed), written as Parquet.

    python python/benchmarks/generate.py --rows 10000000 --out bench-data/10000000

Writes, for N = --rows:
- stocks.parquet: symbol (N/2500 symbols), day, close (a random walk), volume; ordered by
  (symbol, day).
- clicks.parquet: watchid, userid (about N/40 users, skewed activity), eventtime (seconds,
  increasing within a user, about a quarter of the gaps over 1800 s), url (a vocabulary of
  ~50k URLs with skewed popularity, with planted 3-step sequences of three known URL
  prefixes); ordered by (userid, eventtime).
- orders.parquet (order_id, product_id uniform in 1..100000, quantity) and products.parquet
  (100000 rows: product_id, name, price).

The same --rows and seed always give the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20261124
DAYS = 2500
PRODUCTS = 100_000
FUNNEL = ("/funnel/landing", "/funnel/signup", "/funnel/confirm")


def stocks(n: int, rng: np.random.Generator) -> pa.Table:
    symbols = max(1, n // DAYS)
    per = np.full(symbols, n // symbols)
    per[: n - per.sum()] += 1
    symbol = np.repeat(np.arange(symbols, dtype=np.int64), per)
    starts = np.concatenate([[0], np.cumsum(per)[:-1]])
    day = np.arange(n, dtype=np.int64) - np.repeat(starts, per)
    steps = rng.normal(0, 1, n)
    steps[starts] = 0
    walk = np.cumsum(steps)
    walk -= np.repeat(walk[starts], per)  # each symbol's walk starts at its own base
    base = np.repeat(rng.uniform(20, 500, symbols), per)
    close = np.round(np.maximum(base + walk * 0.5, 0.01), 2)
    volume = rng.integers(100, 100_000, n, dtype=np.int64)
    return pa.table({"symbol": symbol, "day": day, "close": close, "volume": volume})


def clicks(n: int, rng: np.random.Generator) -> pa.Table:
    users = max(1, n // 40)
    weights = rng.pareto(1.5, users) + 1  # skewed activity
    counts = np.maximum(1, np.floor(weights / weights.sum() * n)).astype(np.int64)
    counts[np.argmax(counts)] += n - counts.sum()
    if counts.sum() != n:  # the rare case where rounding overshoots: trim the largest users
        for i in np.argsort(-counts):
            cut = min(counts[i] - 1, counts.sum() - n)
            counts[i] -= cut
            if counts.sum() == n:
                break
    userid = np.repeat(np.arange(1, users + 1, dtype=np.int64), counts)
    gaps = np.where(rng.random(n) < 0.25, rng.integers(1801, 20_000, n), rng.integers(1, 1800, n))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    eventtime = np.cumsum(gaps) + 1_700_000_000
    eventtime -= np.repeat(eventtime[starts] - (1_700_000_000 + rng.integers(0, 86_400, users)), counts)
    vocab = np.array([f"/page/{i}" for i in range(50_000)], dtype=object)
    popularity = 1.0 / np.arange(1, 50_001) ** 1.1
    url = vocab[rng.choice(50_000, n, p=popularity / popularity.sum())]
    plants = min(3000, n // 100)
    if plants:
        # plant whole funnels inside users (never across a user boundary)
        long_users = np.flatnonzero(counts >= 3)
        chosen = rng.choice(long_users, plants)
        offsets = (rng.random(plants) * (counts[chosen] - 2)).astype(np.int64)
        pos = starts[chosen] + offsets
        for k, prefix in enumerate(FUNNEL):
            url[pos + k] = [f"{prefix}/{j}" for j in rng.integers(0, 50, plants)]
    return pa.table(
        {
            "watchid": np.arange(1, n + 1, dtype=np.int64),
            "userid": userid,
            "eventtime": eventtime.astype(np.int64),
            "url": pa.array(url, pa.string()),
        }
    )


def orders(n: int, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    products = pa.table(
        {
            "product_id": np.arange(1, PRODUCTS + 1, dtype=np.int64),
            "name": pa.array([f"product-{i}" for i in range(1, PRODUCTS + 1)]),
            "price": np.round(rng.uniform(1, 1000, PRODUCTS), 2),
        }
    )
    table = pa.table(
        {
            "order_id": np.arange(1, n + 1, dtype=np.int64),
            "product_id": rng.integers(1, PRODUCTS + 1, n, dtype=np.int64),
            "quantity": rng.integers(1, 10, n, dtype=np.int64),
        }
    )
    return table, products


def generate(rows: int, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    marker = out / f".complete-{rows}-{SEED}"
    if marker.exists():
        return out
    rng = np.random.default_rng(SEED)
    pq.write_table(stocks(rows, rng), out / "stocks.parquet", row_group_size=1 << 20)
    pq.write_table(clicks(rows, rng), out / "clicks.parquet", row_group_size=1 << 20)
    o, p = orders(rows, rng)
    pq.write_table(o, out / "orders.parquet", row_group_size=1 << 20)
    pq.write_table(p, out / "products.parquet")
    marker.touch()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path("bench-data") / str(args.rows)
    print(generate(args.rows, out))


if __name__ == "__main__":
    main()
