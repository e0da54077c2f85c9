"""SQL only: ltseq in a stock datafusion.SessionContext, no DSL.

Sessions, gaps and islands, links, funnels and rolling statistics on the bundled data, each one
SQL query. The "SQL only" chapter of docs/sql-reference.md is rendered from SETUP and QUERIES
below (scripts/gen_sql_reference.py), so what the reference shows is what this script runs.

Run: python examples/sql_only.py
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"

#: How the tables come in: CSV files, the clicks declared in the order the file is stored in
#: (DataFusion and ltseq's operators then skip the sort for that order; DataFusion trusts a
#: `WITH ORDER`, so declare only an order the file has).
SETUP = [
    "CREATE EXTERNAL TABLE clicks (userid BIGINT, eventtime BIGINT, url VARCHAR) STORED AS CSV "
    "LOCATION 'data/clicks.csv' WITH ORDER (userid, eventtime) OPTIONS ('format.has_header' 'true')",
    "CREATE EXTERNAL TABLE prices STORED AS CSV LOCATION 'data/sample.csv' OPTIONS ('format.has_header' 'true')",
    "CREATE EXTERNAL TABLE orders STORED AS CSV LOCATION 'data/orders.csv' OPTIONS ('format.has_header' 'true')",
    "CREATE EXTERNAL TABLE products STORED AS CSV LOCATION 'data/products.csv' OPTIONS ('format.has_header' 'true')",
]

#: (title, what it shows, SQL): each runs as it is on a context after ``ltseq.register(ctx)``.
QUERIES = [
    (
        "Sessions",
        "A new session where the gap to the user's previous click exceeds 30 minutes: `diff` of "
        "the time in each user's order, a running count of the session starts, one row per "
        "session.",
        """SELECT userid, session, count(*) AS clicks, min(eventtime) AS start, max(eventtime) AS stop
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
LIMIT 5""",
    ),
    (
        "Sessions with ordered grouping",
        "The same sessions from ltseq's GroupOrdered operator, in one pass: a view marks each "
        "session start, `ltseq_group_split` aggregates each run of rows up to the next start.",
        """CREATE VIEW click_gaps AS
SELECT userid, eventtime, url,
       coalesce(diff(eventtime) OVER (PARTITION BY userid ORDER BY eventtime) > 1800, true) AS starts
FROM clicks;

SELECT __group_id__ AS session, count AS clicks, first_url, last_url
FROM ltseq_group_split('click_gaps', 'userid, eventtime', 'starts',
                       'count(*) AS count, first_value(url) AS first_url, last_value(url) AS last_url')
ORDER BY session
LIMIT 5""",
    ),
    (
        "Gaps and islands",
        "Runs of consecutive up days per symbol: `run_id` numbers the runs of equal values.",
        """SELECT symbol, count(*) AS days, min(date) AS first_day
FROM (SELECT symbol, date, close > open AS up,
             run_id(close > open) OVER (PARTITION BY symbol ORDER BY date) AS run
      FROM prices)
WHERE up
GROUP BY symbol, run
HAVING count(*) >= 2
ORDER BY days DESC, symbol, first_day
LIMIT 5""",
    ),
    (
        "Runs with ordered grouping",
        "The same runs from `ltseq_group_ordered`: one row per run of equal `up` within each "
        "symbol (the operator sorts the prices by symbol and date, as the file is stored by "
        "date).",
        """CREATE VIEW moves AS SELECT symbol, date, close > open AS up FROM prices;

SELECT symbol, days, first_day, last_day
FROM ltseq_group_ordered('moves', 'date', 'up',
                         'count(*) AS days, first_value(up) AS up, first_value(symbol) AS symbol,
                          min(date) AS first_day, max(date) AS last_day',
                         'symbol')
WHERE up AND days >= 2
ORDER BY days DESC, symbol, first_day
LIMIT 5""",
    ),
    (
        "Links",
        "Each order with its product, like a pointer (a product id must be unique): "
        "`ltseq_link` keeps every order, in the orders' order, and fetches only the product "
        "columns the query reads.",
        """SELECT order_id, prod_name, quantity * prod_price AS total
FROM ltseq_link('orders', 'products', 'product_id', 'prod')
ORDER BY order_id
LIMIT 5""",
    ),
    (
        "Funnels",
        "How often a user goes home and then straight to a product: a view of the step "
        "conditions, `ltseq_search_pattern_count` over each user's clicks in time order (add "
        "columns for more steps).",
        """CREATE VIEW steps AS
SELECT userid, eventtime, url = '/home' AS s1, starts_with(url, '/product') AS s2
FROM clicks;

SELECT count FROM ltseq_search_pattern_count('steps', 'eventtime', 's1, s2', 'userid')""",
    ),
    (
        "Rolling statistics",
        "Moving averages, maxima and standard deviations over a number of rows (`NULL` until "
        "`min_periods` rows are there).",
        """SELECT symbol, date, close,
       rolling_avg(close, 3, 3) OVER w AS ma3,
       rolling_max(close, 5) OVER w AS max5,
       rolling_std(close, 5, 2) OVER w AS std5
FROM prices WINDOW w AS (PARTITION BY symbol ORDER BY date)
ORDER BY symbol, date
LIMIT 5""",
    ),
]


def statements(sql: str) -> list[str]:
    """The statements of one query block (separated by `;` at the end of a line)."""
    return [s.strip() for s in sql.split(";\n") if s.strip()]


def main() -> None:
    import os

    import datafusion

    import ltseq

    os.chdir(DATA.parent)  # the paths in SETUP are relative to the repository
    ctx = datafusion.SessionContext()
    ltseq.register(ctx)  # the window functions and the table functions
    print("ltseq window functions:", ", ".join(ltseq.sql_functions()))
    print("ltseq table functions:", ", ".join(ltseq.table_functions()))
    for sql in SETUP:
        ctx.sql(sql)
    for title, _, sql in QUERIES:
        print(f"\n== {title} ==")
        *views, query = statements(sql)
        for view in views:
            ctx.sql(view)
        ctx.sql(query).show()


if __name__ == "__main__":
    main()
