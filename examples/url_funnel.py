"""Click-stream analysis on the bundled data/clicks.csv: top pages, sessions and a 3-step
funnel, with the DSL, then the same funnel in plain SQL on a stock DataFusion context.

Run: python examples/url_funnel.py
"""

from pathlib import Path

import datafusion

import ltseq
from ltseq import LTSeq

PATH = Path(__file__).resolve().parent.parent / "data" / "clicks.csv"
STEPS = ("/landing", "/signup", "/confirm")

clicks = LTSeq.read_csv(PATH).sort("userid", "eventtime")

print("== Top pages ==")
clicks.agg(by="url", visits=lambda g: g.count()).sort("visits", desc=True).slice(0, 5).show()

print("== Sessions (a new one after 30 minutes without a click) ==")
sessions = clicks.group_ordered(
    split=lambda r: (r.userid != r.userid.shift(1)) | (r.eventtime - r.eventtime.shift(1) > 1800)
)
print("sessions:", len(sessions))

print("== Funnel: landing -> signup -> confirm, three consecutive clicks of one user ==")
steps = [lambda r, p=p: r.url.s.starts_with(p) for p in STEPS]
completed = clicks.search_pattern(*steps, partition_by="userid")
completed.select("userid", "eventtime").show()
started = clicks.search_pattern_count(steps[0], partition_by="userid")
done = clicks.search_pattern_count(*steps, partition_by="userid")
print(f"started: {started}, completed: {done}")

print("== The same funnel in SQL on a stock datafusion.SessionContext ==")
ctx = datafusion.SessionContext()
ltseq.register(ctx)  # ltseq's SQL functions (the funnel below needs only DataFusion's own)
ctx.register_csv("clicks", str(PATH))
w = "OVER (PARTITION BY userid ORDER BY eventtime)"
sql = (
    f"SELECT count(*) AS completed FROM (SELECT starts_with(url, '{STEPS[0]}') AS a, "
    f"starts_with(lead(url, 1) {w}, '{STEPS[1]}') AS b, starts_with(lead(url, 2) {w}, '{STEPS[2]}') AS c "
    "FROM clicks) WHERE a AND b AND c"
)
ctx.sql(sql).show()
