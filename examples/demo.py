"""ltseq demo on the bundled data/sample.csv: the DSL, then plain SQL on a stock DataFusion context.

Run from the repository root:  python examples/demo.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import datafusion

import ltseq
from ltseq import LTSeq

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data" / "sample.csv"

print("== The DSL: days where AAA closed above its open, largest moves first ==")
t = LTSeq.read_csv(path)
print("columns:", t.schema)
up_days = (
    t.filter(lambda r: r.symbol == "AAA")
    .derive(gain=lambda r: (r.close - r.open).round(2), pct=lambda r: ((r.close - r.open) / r.open * 100).round(2))
    .filter(lambda r: r.gain > 0)
    .sort("gain", desc=True)
    .select("date", "open", "close", "gain", "pct")
)
up_days.show(5)
print("The SQL it runs:\n ", up_days.sql)

print("\n== Window expressions: 3-day moving average and day-over-day change, per symbol ==")
trend = (
    t.sort("symbol", "date")
    .derive(
        lambda r: {
            "ma3": r.close.rolling(3, min_periods=3, partition_by="symbol").mean().round(2),
            "chg_pct": (r.close.pct_change(partition_by="symbol") * 100).round(2),
            "up": r.close > r.close.shift(1, partition_by="symbol"),
        }
    )
    .select("symbol", "date", "close", "ma3", "chg_pct", "up")
)
trend.show(6)

print("\n== SQL with ltseq functions in a stock datafusion.SessionContext ==")
ctx = datafusion.SessionContext()
ltseq.register(ctx)
ctx.register_csv("prices", str(path))
# Runs of consecutive up / down days per symbol (gaps and islands with run_id), longest first.
ctx.sql(
    """
    SELECT symbol, up, min(date) AS first_day, max(date) AS last_day, count(*) AS days
    FROM (
        SELECT symbol, date, close > open AS up,
               run_id(close > open) OVER (PARTITION BY symbol ORDER BY date) AS run
        FROM prices
    )
    GROUP BY symbol, up, run
    ORDER BY days DESC, symbol, first_day
    LIMIT 5
    """
).show()
ctx.sql(
    """
    SELECT symbol, date, close,
           rolling_avg(close, 3, 3) OVER w AS ma3,
           pct_change(close) OVER w AS chg,
           cum_sum(volume) OVER w AS volume_to_date
    FROM prices WINDOW w AS (PARTITION BY symbol ORDER BY date)
    ORDER BY symbol, date LIMIT 5
    """
).show()
