"""SQL only: ltseq's functions in a stock datafusion.SessionContext, no DSL.

Sessions, runs and rolling statistics on the bundled click and price data, each one SQL query.

Run: python examples/sql_only.py
"""

from pathlib import Path

import datafusion

import ltseq

DATA = Path(__file__).resolve().parent.parent / "data"

ctx = datafusion.SessionContext()
ltseq.register(ctx)  # rolling_*, cum_*, diff, pct_change, run_id
ctx.register_csv("clicks", str(DATA / "clicks.csv"))
ctx.register_csv("prices", str(DATA / "sample.csv"))
print("ltseq functions:", ", ".join(ltseq.sql_functions()))

print("\n== Sessions: a new one when the gap to the user's previous click exceeds 30 minutes ==")
ctx.sql(
    """
    SELECT userid, session, count(*) AS clicks, min(eventtime) AS start, max(eventtime) AS stop
    FROM (
        SELECT userid, eventtime,
               cum_sum(CASE WHEN gap IS NULL OR gap > 1800 THEN 1 ELSE 0 END)
                   OVER (PARTITION BY userid ORDER BY eventtime) AS session
        FROM (SELECT userid, eventtime,
                     diff(eventtime) OVER (PARTITION BY userid ORDER BY eventtime) AS gap
              FROM clicks)
    )
    GROUP BY userid, session
    ORDER BY userid, session
    LIMIT 6
    """
).show()

print("== Runs of consecutive up days per symbol (run_id: gaps and islands) ==")
ctx.sql(
    """
    SELECT symbol, count(*) AS days, min(date) AS first_day
    FROM (SELECT symbol, date, close > open AS up,
                 run_id(close > open) OVER (PARTITION BY symbol ORDER BY date) AS run
          FROM prices)
    WHERE up
    GROUP BY symbol, run
    HAVING count(*) >= 2
    ORDER BY days DESC, symbol, first_day
    LIMIT 5
    """
).show()

print("== Rolling statistics ==")
ctx.sql(
    """
    SELECT symbol, date, close,
           rolling_avg(close, 3, 3) OVER w AS ma3,
           rolling_max(close, 5) OVER w AS max5,
           rolling_std(close, 5, 2) OVER w AS std5
    FROM prices WINDOW w AS (PARTITION BY symbol ORDER BY date)
    ORDER BY symbol, date
    LIMIT 5
    """
).show()
