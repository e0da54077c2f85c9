"""ltseq.register(ctx) on a stock datafusion SessionContext."""

from __future__ import annotations

import datafusion
import pyarrow as pa
import pytest

import ltseq


def test_version_and_import():
    assert isinstance(ltseq.__version__, str) and ltseq.__version__
    assert ltseq.DATAFUSION_MAJOR == 55
    assert ltseq.check_datafusion_version().startswith("55.")


def test_run_id_in_a_users_context():
    ctx = datafusion.SessionContext()
    ltseq.register(ctx)
    ctx.from_pydict({"t": [1, 2, 3, 4, 5], "k": ["a", "a", "b", "a", "a"]}, name="x")
    out = ctx.sql("SELECT t, run_id(k) OVER (ORDER BY t) AS r FROM x ORDER BY t").to_pydict()
    assert out == {"t": [1, 2, 3, 4, 5], "r": [1, 1, 2, 3, 3]}


def test_register_twice_is_harmless():
    ctx = datafusion.SessionContext()
    ltseq.register(ctx)
    ltseq.register(ctx)
    ctx.from_pydict({"t": [1, 2], "k": [1, 1]}, name="x")
    out = ctx.sql("SELECT run_id(k) OVER (ORDER BY t) AS r FROM x ORDER BY t").to_pydict()
    assert out == {"r": [1, 1]}
    assert "run_id" in ltseq.sql_functions()


def test_version_mismatch_names_both_versions(monkeypatch):
    monkeypatch.setattr(datafusion, "__version__", "54.1.0")
    with pytest.raises(ltseq.IncompatibleDataFusionError) as err:
        ltseq.register(datafusion.SessionContext())
    msg = str(err.value)
    assert "55" in msg and "54.1.0" in msg


def test_register_rejects_non_contexts():
    with pytest.raises(TypeError, match="SessionContext"):
        ltseq.register(object())


def test_bad_arguments_are_python_errors_not_crashes():
    ctx = datafusion.SessionContext()
    ltseq.register(ctx)
    ctx.from_pydict({"t": [1, 2]}, name="x")
    with pytest.raises(Exception, match="run_id expects at least one argument"):
        ctx.sql("SELECT run_id() OVER (ORDER BY t) FROM x").collect()
    with pytest.raises(Exception, match="run_id does not support argument 1"):
        ctx.sql("SELECT run_id(named_struct('a', t)) OVER (ORDER BY t) FROM x").collect()


def test_run_id_many_partitions_and_batches_against_a_loop():
    import random

    rng = random.Random(3)
    n = 20_000
    g = [rng.randrange(50) for _ in range(n)]
    t = list(range(n))
    k = [rng.choice([None, 0, 1]) for _ in range(n)]
    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4).with_batch_size(64))
    ltseq.register(ctx)
    ctx.register_record_batches("x", [pa.table({"g": g, "t": t, "k": k}).to_batches(max_chunksize=1000)])
    got = ctx.sql("SELECT g, t, run_id(k) OVER (PARTITION BY g ORDER BY t) AS r FROM x").to_pydict()
    # oracle: a plain loop per partition
    rows = sorted(zip(g, t, k))
    expected = {}
    prev_g, prev_k, rid = None, None, 0
    for gi, ti, ki in rows:
        if gi != prev_g:
            rid = 1
        elif ki != prev_k:
            rid += 1
        expected[(gi, ti)] = rid
        prev_g, prev_k = gi, ki
    assert {(a, b): c for a, b, c in zip(got["g"], got["t"], got["r"])} == expected


def test_function_descriptions_are_queryable() -> None:
    """The FFI drops a function's documentation, so register() adds the table ltseq_functions
    with each window function's description and syntax from its Rust documentation."""
    ctx = ltseq.register(datafusion.SessionContext())
    rows = ctx.sql("SELECT * FROM ltseq_functions ORDER BY function_name").to_pylist()
    assert sorted(r["function_name"] for r in rows) == sorted(ltseq.sql_functions())
    for r in rows:
        assert r["function_type"] == "WINDOW" and len(r["description"]) > 20
        assert r["syntax"].startswith(r["function_name"] + "(")
    # a table of the user's with that name is left alone
    other = datafusion.SessionContext()
    other.sql("CREATE TABLE ltseq_functions AS VALUES (1)").collect()
    ltseq.register(other)
    assert other.sql("SELECT * FROM ltseq_functions").to_pydict() == {"column1": [1]}
