//! The GroupOrdered operator's split predicate (a condition over columns and their lags,
//! evaluated in the operator) against a plain loop over the rows: one pass over batches of 1 to
//! 3 rows, and input partitions grouped in parallel (uneven, empty and one-row partitions,
//! groups spanning several partitions), with and without group ids.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::error::Result;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use ltseq_planner::{AggCall, Boundary, GroupOrderedExec, Lag, SplitPredicate};

/// `p` (partition key), `u` (a user id with NULLs), `t` (time with gaps), `v` (a value).
fn data(n: usize) -> Result<RecordBatch> {
    let p: Vec<i64> = (0..n as i64).map(|i| i / 97).collect();
    let u: Vec<Option<i64>> = (0..n)
        .map(|i| (i % 23 != 7).then_some((i / 9) as i64 % 5))
        .collect();
    let t: Vec<Option<i64>> = (0..n)
        .map(|i| (i % 31 != 3).then_some((i * 4 + (i * i) % 11) as i64))
        .collect();
    let v: Vec<i64> = (0..n as i64).map(|i| (i * 37) % 19 - 9).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("p", DataType::Int64, false),
        Field::new("u", DataType::Int64, true),
        Field::new("t", DataType::Int64, true),
        Field::new("v", DataType::Int64, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(p)) as ArrayRef,
            Arc::new(Int64Array::from(u)),
            Arc::new(Int64Array::from(t)),
            Arc::new(Int64Array::from(v)),
        ],
    )?)
}

fn col(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    b.column_by_name(name)
        .map(|c| c.as_primitive::<Int64Type>().iter().collect())
        .unwrap_or_default()
}

/// The predicates under test: SQL, lags, and the same condition in Rust.
type Rule = fn(&[Option<i64>], &[Option<i64>], &[Option<i64>], usize) -> bool;

fn lag(x: &[Option<i64>], i: usize, k: usize) -> Option<i64> {
    if i >= k {
        x[i - k]
    } else {
        None
    }
}

fn cases() -> Vec<(&'static str, Vec<Lag>, Rule)> {
    let l = |c: &str, k: usize, n: &str| Lag {
        column: c.into(),
        offset: k,
        name: n.into(),
    };
    vec![
        (
            "u <> lu OR t - lt > 5",
            vec![l("u", 1, "lu"), l("t", 1, "lt")],
            |u, t, _v, i| {
                let a = match (u[i], lag(u, i, 1)) {
                    (Some(x), Some(y)) => Some(x != y),
                    _ => None,
                };
                let b = match (t[i], lag(t, i, 1)) {
                    (Some(x), Some(y)) => Some(x - y > 5),
                    _ => None,
                };
                // SQL OR: true if either is true
                a == Some(true) || b == Some(true)
            },
        ),
        ("v > 6", vec![], |_u, _t, v, i| v[i].is_some_and(|x| x > 6)),
        (
            "coalesce(v < lv2, false)",
            vec![l("v", 2, "lv2")],
            |_u, _t, v, i| matches!((v[i], lag(v, i, 2)), (Some(x), Some(y)) if x < y),
        ),
        ("u IS NULL", vec![], |u, _t, _v, i| u[i].is_none()),
    ]
}

/// Per group, in order: (rows, sum of v, first v).
fn oracle(b: &RecordBatch, rule: Rule, keyed: bool) -> Vec<(i64, i64, i64)> {
    let (p, u, t, v) = (col(b, "p"), col(b, "u"), col(b, "t"), col(b, "v"));
    let mut out: Vec<(i64, i64, i64)> = Vec::new();
    for i in 0..b.num_rows() {
        let start = i == 0 || rule(&u, &t, &v, i) || (keyed && p[i] != p[i - 1]);
        let x = v[i].unwrap_or(0);
        match out.last_mut() {
            Some(g) if !start => {
                g.0 += 1;
                g.1 += x;
            }
            _ => out.push((1, x, x)),
        }
    }
    out
}

async fn run(
    table: MemTable,
    pred: &SplitPredicate,
    keyed: bool,
    parallel: Option<bool>,
) -> Result<(Vec<(i64, i64, i64)>, Vec<Option<i64>>)> {
    let ctx = SessionContext::new();
    let plan = table.scan(&ctx.state(), None, &[], None).await?;
    let aggs = vec![
        AggCall {
            function: "count".into(),
            args: vec![],
            output: "n".into(),
        },
        AggCall {
            function: "sum".into(),
            args: vec!["v".into()],
            output: "s".into(),
        },
        AggCall {
            function: "first_value".into(),
            args: vec!["v".into()],
            output: "f".into(),
        },
    ];
    let keys = if keyed { vec!["p".to_string()] } else { vec![] };
    let mut exec = GroupOrderedExec::try_new(
        plan,
        None,
        keys,
        Boundary::Predicate(pred.clone()),
        aggs,
        true,
    )?;
    if let Some(ids) = parallel {
        exec = exec.with_parallel_partitions(ids)?;
    }
    let exec: Arc<dyn ExecutionPlan> = Arc::new(exec);
    let mut groups = Vec::new();
    let mut ids = Vec::new();
    for p in 0..exec.properties().partitioning.partition_count() {
        let stream = exec.execute(p, ctx.task_ctx())?;
        for b in datafusion::physical_plan::common::collect(stream).await? {
            let (n, s, f) = (col(&b, "n"), col(&b, "s"), col(&b, "f"));
            for i in 0..b.num_rows() {
                groups.push((n[i].unwrap_or(-1), s[i].unwrap_or(-1), f[i].unwrap_or(-1)));
            }
            let id = b.column(0);
            if id.data_type() == &DataType::Int64 {
                ids.extend(id.as_primitive::<Int64Type>().iter());
            } else {
                assert_eq!(id.logical_null_count(), id.len(), "ids left out are NULL");
            }
        }
    }
    Ok((groups, ids))
}

fn partitions(all: &RecordBatch, cuts: &[usize], chunk: usize) -> Vec<Vec<RecordBatch>> {
    cuts.windows(2)
        .map(|w| {
            (w[0]..w[1])
                .step_by(chunk)
                .map(|s| all.slice(s, chunk.min(w[1] - s)))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn split_predicate_agrees_with_a_loop() -> Result<()> {
    let n = 500;
    let all = data(n)?;
    // uneven partitions: empty ones (also first), one-row ones, and long ones
    let cuts = [
        0usize, 0, 1, 2, 2, 60, 61, 63, 250, 251, 251, 420, 499, 500, 500,
    ];
    for (sql, lags, rule) in cases() {
        let pred = SplitPredicate {
            sql: sql.into(),
            lags: lags.clone(),
        };
        for keyed in [false, true] {
            let expected = oracle(&all, rule, keyed);
            // one pass over tiny batches
            for chunk in [1, 2, 3] {
                let t = MemTable::try_new(all.schema(), partitions(&all, &[0, n], chunk))?;
                let (got, ids) = run(t, &pred, keyed, None).await?;
                assert_eq!(got, expected, "{sql} keyed={keyed} chunk={chunk}");
                let want: Vec<Option<i64>> = (1..=expected.len() as i64).map(Some).collect();
                assert_eq!(ids, want, "1-based ids");
            }
            if pred.lags.iter().any(|l| l.offset > 1) {
                continue; // the parallel mode needs a look-behind of one row at most
            }
            for ids in [false, true] {
                let t = MemTable::try_new(all.schema(), partitions(&all, &cuts, 3))?;
                let (got, got_ids) = run(t, &pred, keyed, Some(ids)).await?;
                assert_eq!(got, expected, "{sql} keyed={keyed} parallel ids={ids}");
                if ids {
                    assert_eq!(got_ids.len(), expected.len());
                    assert!(got_ids.windows(2).all(|w| w[0] < w[1]), "ids rise");
                }
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn one_group_across_every_partition() -> Result<()> {
    // No row starts a group: partition 0 owns the one group and reads through the others.
    let all = data(300)?;
    let pred = SplitPredicate {
        sql: "v > 100".into(),
        lags: vec![],
    };
    let cuts = [0usize, 0, 5, 5, 100, 101, 300, 300];
    let t = MemTable::try_new(all.schema(), partitions(&all, &cuts, 7))?;
    let (got, _) = run(t, &pred, false, Some(false)).await?;
    let sum: i64 = col(&all, "v").iter().map(|x| x.unwrap_or(0)).sum();
    assert_eq!(got, vec![(300, sum, col(&all, "v")[0].unwrap_or(0))]);
    // and with no rows at all
    let empty = MemTable::try_new(all.schema(), vec![vec![], vec![]])?;
    let (got, _) = run(empty, &pred, false, Some(false)).await?;
    assert!(got.is_empty());
    Ok(())
}

#[tokio::test]
async fn bad_predicates_are_clear_errors() -> Result<()> {
    let all = data(10)?;
    let schema = all.schema();
    let bad = |sql: &str, lags: Vec<Lag>| SplitPredicate {
        sql: sql.into(),
        lags,
    };
    let lag = |c: &str, k: usize, n: &str| Lag {
        column: c.into(),
        offset: k,
        name: n.into(),
    };
    for (pred, needle) in [
        (bad("v + 1", vec![]), "must be BOOLEAN"),
        (bad("nope > 1", vec![]), "nope"),
        (
            bad("v > lv", vec![lag("w", 1, "lv")]),
            "no input column named \"w\"",
        ),
        (bad("v > lv", vec![lag("v", 0, "lv")]), "at least 1"),
        (bad("v > u", vec![lag("v", 1, "u")]), "already a column"),
    ] {
        let err = pred
            .compile(&schema, &ltseq_planner::Functions::builtin())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(needle), "{err} should mention {needle}");
    }
    Ok(())
}

#[tokio::test]
async fn the_node_and_the_operator_round_trip_through_the_codecs() -> Result<()> {
    use datafusion::logical_expr::{Extension, LogicalPlan, LogicalPlanBuilder};
    use datafusion_proto::logical_plan::LogicalExtensionCodec;
    use datafusion_proto::physical_plan::{DefaultPhysicalProtoConverter, PhysicalExtensionCodec};
    use ltseq_planner::{
        GroupOrderedNode, GroupOrderedSpec, LtseqLogicalCodec, LtseqPhysicalCodec,
    };

    let all = data(20)?;
    let ctx = SessionContext::new();
    ctx.register_batch("t", all.clone())?;
    let spec = GroupOrderedSpec {
        partition_by: vec!["p".into()],
        boundary: Boundary::Predicate(SplitPredicate {
            sql: "u <> lu".into(),
            lags: vec![Lag {
                column: "u".into(),
                offset: 1,
                name: "lu".into(),
            }],
        }),
        aggs: vec![AggCall {
            function: "count".into(),
            args: vec![],
            output: "n".into(),
        }],
        input_order: vec!["p".into(), "t".into()],
    };
    let scan = LogicalPlanBuilder::scan(
        "t",
        datafusion::catalog::default_table_source::provider_as_source(
            ctx.table_provider("t").await?,
        ),
        None,
    )?
    .build()?;
    let node = Extension {
        node: Arc::new(GroupOrderedNode::try_new(scan.clone(), spec.clone())?),
    };
    let mut buf = Vec::new();
    LtseqLogicalCodec.try_encode(&node, &mut buf)?;
    let back = LtseqLogicalCodec.try_decode(&buf, &[scan], &ctx.task_ctx())?;
    let back = back
        .node
        .as_any()
        .downcast_ref::<GroupOrderedNode>()
        .map(|n| n.spec().clone());
    assert_eq!(back, Some(spec.clone()));
    assert!(matches!(
        LogicalPlan::Extension(node).display().to_string().as_str(),
        s if s.starts_with("LtseqGroupOrdered: partition_by=[p], split=[u <> lu]")
    ));

    let input = ctx.table("t").await?.create_physical_plan().await?;
    let exec: Arc<dyn ExecutionPlan> = Arc::new(spec.plan(Arc::clone(&input))?);
    let mut buf = Vec::new();
    LtseqPhysicalCodec.try_encode(
        Arc::clone(&exec),
        &mut buf,
        &DefaultPhysicalProtoConverter {},
    )?;
    let back = LtseqPhysicalCodec.try_decode(
        &buf,
        &[input],
        &ctx.task_ctx(),
        &DefaultPhysicalProtoConverter {},
    )?;
    let any: &dyn std::any::Any = back.as_ref();
    let back = any
        .downcast_ref::<GroupOrderedExec>()
        .map(|e| (e.input_order(), e.partition_by().to_vec()));
    assert_eq!(
        back,
        Some((spec.input_order.clone(), spec.partition_by.clone()))
    );
    Ok(())
}
