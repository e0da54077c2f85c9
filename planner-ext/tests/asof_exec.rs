//! The two operators with a build side, against loops over both tables. AsOf: every strategy,
//! with and without `by`, ties, tolerance, NULL keys and times, small batches and several
//! partitions on both sides; both the planner route (Rust session) and the provider route;
//! each output partition is its left partition in order. Join: every kind, NULL keys, each left
//! row's matches in the right's order, the ordinal increasing.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::error::Result;
use datafusion::prelude::{SessionConfig, SessionContext};
use ltseq_planner::join::{JoinKind, JoinSpec, JoinTableProvider};
use ltseq_planner::{
    register_table_functions, session_context_with_ltseq, AsofSpec, AsofStrategy,
    AsofTableProvider, Tolerance,
};

/// A small deterministic generator (no dependency on a random crate).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n) as i64
    }
}

type Rows = Vec<(i64, Option<i64>, Option<i64>)>; // (id, key, time)

fn register(
    ctx: &SessionContext,
    name: &str,
    rows: &Rows,
    chunk: usize,
    parts: usize,
) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Int64, true),
        Field::new("ts", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ],
    )?;
    let n = rows.len();
    let per = n.div_ceil(parts.max(1)).max(1);
    let mut partitions = Vec::new();
    for p in 0..parts {
        let (lo, hi) = ((p * per).min(n), ((p + 1) * per).min(n));
        partitions.push(
            (lo..hi)
                .step_by(chunk)
                .map(|s| batch.slice(s, chunk.min(hi - s)))
                .collect::<Vec<_>>(),
        );
    }
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, partitions)?))?;
    Ok(())
}

/// The right row id each left row takes, by a loop.
fn expected(
    left: &Rows,
    right: &Rows,
    by: bool,
    strategy: &str,
    tol: Option<i64>,
) -> Vec<Option<i64>> {
    left.iter()
        .map(|&(_, k, t)| {
            let (Some(t), true) = (t, !by || k.is_some()) else {
                return None;
            };
            // candidates in the right's order, with their times
            let cands: Vec<(i64, i64)> = right
                .iter()
                .filter(|r| r.2.is_some() && (!by || (r.1.is_some() && r.1 == k)))
                .map(|r| (r.2.unwrap_or_default(), r.0))
                .collect();
            let back = cands
                .iter()
                .filter(|c| c.0 <= t)
                .max_by_key(|c| c.0)
                .map(|c| {
                    // of equal times, the last in the right's order
                    *cands.iter().rev().find(|d| d.0 == c.0).unwrap_or(c)
                });
            let fwd = cands
                .iter()
                .filter(|c| c.0 >= t)
                .min_by_key(|c| c.0)
                .copied();
            // nearest: of the rows at the least distance, the last in the right's order
            let last_fwd = fwd.map(|f| *cands.iter().rev().find(|d| d.0 == f.0).unwrap_or(&f));
            let pick = match strategy {
                "backward" => back,
                "forward" => fwd,
                _ => match (back, last_fwd) {
                    (Some(b), _) if b.0 == t => Some(b),
                    (Some(b), Some(f)) => Some(if t - b.0 < f.0 - t { b } else { f }),
                    (b, f) => b.or(f),
                },
            };
            pick.filter(|c| tol.is_none_or(|tol| (t - c.0).abs() <= tol))
                .map(|c| c.1)
        })
        .collect()
}

fn data(seed: u64, n: usize, m: usize, keys: u64, span: u64) -> (Rows, Rows) {
    let mut g = Lcg(seed);
    let row = |i: usize, g: &mut Lcg| {
        let k = (g.next(10) != 0).then(|| g.next(keys));
        let t = (g.next(12) != 0).then(|| g.next(span));
        (i as i64, k, t)
    };
    let left = (0..n).map(|i| row(i, &mut g)).collect();
    let right = (0..m).map(|i| row(1000 + i, &mut g)).collect();
    (left, right)
}

async fn ids(ctx: &SessionContext, sql: &str) -> Result<Vec<(i64, Option<i64>)>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let mut out = Vec::new();
    for b in &batches {
        let a = b.column(0).as_primitive::<Int64Type>();
        let c = b.column(1).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push((a.value(i), c.is_valid(i).then(|| c.value(i))));
        }
    }
    Ok(out)
}

async fn check(ctx: &SessionContext, left: &Rows, right: &Rows) -> Result<()> {
    for strategy in ["backward", "forward", "nearest"] {
        for (by, tol) in [
            (false, None),
            (true, None),
            (true, Some(3)),
            (false, Some(0)),
        ] {
            let by_arg = if by { "k" } else { "" };
            let tol_arg = tol.map(|t| format!(", {t}")).unwrap_or_default();
            let sql = format!(
                "SELECT id, id_right FROM ltseq_asof_join('l', 'r', 'ts', '{by_arg}', '{strategy}'{tol_arg}) ORDER BY id"
            );
            let got: Vec<Option<i64>> = ids(ctx, &sql).await?.into_iter().map(|r| r.1).collect();
            assert_eq!(got, expected(left, right, by, strategy, tol), "{sql}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn asof_join_equals_a_loop() -> Result<()> {
    for (seed, n, m, chunk, parts) in [
        (1, 0, 5, 3, 1),
        (2, 5, 0, 1, 1),
        (3, 700, 90, 7, 3),
        (4, 1500, 400, 64, 4),
        (5, 300, 1, 5, 2),
    ] {
        let (left, right) = data(seed, n, m, 5, 60);
        for planner in [true, false] {
            let config = SessionConfig::new().with_target_partitions(4);
            let ctx = if planner {
                session_context_with_ltseq(config)?
            } else {
                let ctx = SessionContext::new_with_config(config);
                register_table_functions(&ctx);
                ctx
            };
            register(&ctx, "l", &left, chunk, parts)?;
            register(&ctx, "r", &right, chunk, parts.max(2))?;
            check(&ctx, &left, &right).await?;
        }
    }
    Ok(())
}

/// Each output partition is its left partition, in order, and the plan names the operator.
#[tokio::test]
async fn keeps_each_left_partition_in_order() -> Result<()> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    register_table_functions(&ctx);
    let (left, right) = data(7, 4000, 300, 8, 500);
    register(&ctx, "l", &left, 33, 4)?;
    register(&ctx, "r", &right, 16, 3)?;
    let l = ctx.table_provider("l").await?;
    let r = ctx.table_provider("r").await?;
    let spec = AsofSpec::new(
        &l.schema(),
        &r.schema(),
        "ts".into(),
        "ts".into(),
        vec!["k".into()],
        vec!["k".into()],
        AsofStrategy::Nearest,
        Some(Tolerance::Number(10.0)),
        "_r",
    )?;
    let provider = AsofTableProvider::try_new("l", l.schema(), "r", r.schema(), spec)?;
    let plan = provider
        .scan(&ctx.state(), Some(&vec![0, 3]), &[], None)
        .await?;
    assert_eq!(plan.properties().partitioning.partition_count(), 4);
    let mut seen = 0;
    for p in 0..4 {
        let batches =
            datafusion::physical_plan::common::collect(plan.execute(p, ctx.task_ctx())?).await?;
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] + 1 == w[1]),
            "partition {p} out of order"
        );
        seen += ids.len();
    }
    assert_eq!(seen, 4000);
    let explain = ctx
        .sql("EXPLAIN SELECT id, id_right FROM ltseq_asof_join('l', 'r', 'ts', 'k', 'nearest', 10)")
        .await?
        .collect()
        .await?;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)?.to_string();
    assert!(
        text.contains("LtseqAsofJoinExec(on=ts ~ ts, by=[k = k], strategy=nearest, tolerance=10"),
        "{text}"
    );
    Ok(())
}

/// The join's rows by a loop: (left id, right id) per output row, in order.
fn join_loop(left: &Rows, right: &Rows, kind: JoinKind) -> Vec<(i64, Option<i64>)> {
    let mut out = Vec::new();
    for l in left {
        let hits: Vec<i64> = right
            .iter()
            .filter(|r| l.1.is_some() && r.1 == l.1)
            .map(|r| r.0)
            .collect();
        match kind {
            JoinKind::Semi if !hits.is_empty() => out.push((l.0, None)),
            JoinKind::Anti if hits.is_empty() => out.push((l.0, None)),
            JoinKind::Inner | JoinKind::Left => {
                out.extend(hits.iter().map(|&h| (l.0, Some(h))));
                if hits.is_empty() && kind == JoinKind::Left {
                    out.push((l.0, None));
                }
            }
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn join_equals_a_loop_in_order() -> Result<()> {
    let (left, right) = data(11, 3000, 250, 40, 100);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    register(&ctx, "l", &left, 37, 3)?;
    register(&ctx, "r", &right, 16, 2)?;
    let l = ctx.table_provider("l").await?;
    let r = ctx.table_provider("r").await?;
    for kind in [
        JoinKind::Inner,
        JoinKind::Left,
        JoinKind::Semi,
        JoinKind::Anti,
    ] {
        let fetches = matches!(kind, JoinKind::Inner | JoinKind::Left);
        let spec = JoinSpec {
            left_keys: vec!["k".into()],
            right_keys: vec!["k".into()],
            kind,
            fetch: if fetches { vec!["id".into()] } else { vec![] },
            names: if fetches { vec!["rid".into()] } else { vec![] },
            ordinal: fetches.then(|| "n".to_string()),
        };
        let provider = JoinTableProvider::try_new("l", l.schema(), "r", r.schema(), spec)?;
        let plan = provider.scan(&ctx.state(), None, &[], None).await?;
        let mut got = Vec::new();
        let mut last_ordinal = i64::MIN;
        for p in 0..plan.properties().partitioning.partition_count() {
            let batches =
                datafusion::physical_plan::common::collect(plan.execute(p, ctx.task_ctx())?)
                    .await?;
            for b in &batches {
                let id = b.column(0).as_primitive::<Int64Type>();
                for i in 0..b.num_rows() {
                    if fetches {
                        let rid = b.column(3).as_primitive::<Int64Type>();
                        let n = b.column(4).as_primitive::<Int64Type>().value(i);
                        assert!(n > last_ordinal, "the ordinal increases");
                        last_ordinal = n;
                        got.push((id.value(i), rid.is_valid(i).then(|| rid.value(i))));
                    } else {
                        got.push((id.value(i), None));
                    }
                }
            }
        }
        assert_eq!(got, join_loop(&left, &right, kind), "{kind:?}");
    }
    Ok(())
}
