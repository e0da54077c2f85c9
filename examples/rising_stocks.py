"""The roadmap's showcase: stretches where a stock rose for more than 3 days in a row.

Run from the repository root:  python examples/rising_stocks.py
"""

from __future__ import annotations

from pathlib import Path

from ltseq import LTSeq

path = Path(__file__).resolve().parents[1] / "data" / "sample.csv"

rising = (
    LTSeq.read_csv(path)
    .filter(lambda r: r.symbol == "AAA")
    .sort(lambda r: r.date)
    .derive(lambda r: {"is_up": r.close > r.close.shift(1)})
    .group_ordered(lambda r: r.is_up)
    .filter(lambda g: (g.first().is_up == True) & (g.count() > 3))  # noqa: E712 - builds an expression
    .derive(lambda g: {"start": g.first().date, "end": g.last().date, "gain": g.last().close - g.first().close})
)
rising.select("date", "close", "start", "end", "gain").show(20)

# The same question for every symbol at once: group within each symbol, one row per stretch.
stretches = (
    LTSeq.read_csv(path)
    .sort("symbol", "date")
    .derive(lambda r: {"is_up": r.close > r.close.shift(1, partition_by="symbol")})
    .group_ordered("is_up", partition_by="symbol")
    .filter(lambda g: (g.first().is_up == True) & (g.count() > 3))  # noqa: E712
    .agg(
        lambda g: {
            "symbol": g.first().symbol,
            "start": g.first().date,
            "end": g.last().date,
            "days": g.count(),
            "gain": (g.last().close - g.first().close).round(2),
        }
    )
)
stretches.show()
