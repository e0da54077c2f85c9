"""Sessionization: a user's session ends after 30 minutes without an event.

Run from the repository root:  python examples/sessions.py
"""

from __future__ import annotations

from ltseq import LTSeq

clicks = LTSeq.from_dict(
    {
        "user": [1, 1, 1, 1, 2, 2, 2, 3],
        "ts": [0, 300, 2500, 2600, 100, 200, 9000, 50],
        "url": ["/", "/a", "/", "/b", "/", "/c", "/", "/"],
    }
).assume_sorted("user", "ts")  # the events are stored in (user, time) order

sessions = clicks.group_ordered(split=lambda r: (r.user != r.user.shift(1)) | (r.ts - r.ts.shift(1) > 1800))
print("sessions:", len(sessions))
sessions.agg(
    lambda g: {
        "user": g.first().user,
        "start": g.first().ts,
        "seconds": g.last().ts - g.first().ts,
        "events": g.count(),
        "landing": g.first().url,
    }
).show()
sessions.flatten().show()
