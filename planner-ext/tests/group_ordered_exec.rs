//! The GroupOrdered operator against SQL over `run_id`: the same groups and aggregates, with
//! groups spanning batches (batches of 1 to 5 rows), partitions, NULL keys, split mode and
//! empty input.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::error::Result;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use ltseq_planner::{AggCall, Boundary, GroupOrderedExec};

fn context(rows: usize, chunk: usize) -> Result<SessionContext> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    ltseq_udf::register_all(&ctx)?;
    let p: Vec<i64> = (0..rows as i64).map(|i| i / 13).collect();
    let i: Vec<i64> = (0..rows as i64).collect();
    let k: Vec<Option<i64>> = (0..rows)
        .map(|j| match (j * 7 / 5) % 4 {
            0 => None,
            x => Some(x as i64 % 2),
        })
        .collect();
    let v: Vec<i64> = (0..rows as i64).map(|j| (j * 31) % 17 - 8).collect();
    let s: Vec<Option<bool>> = (0..rows)
        .map(|j| (j % 6 != 5).then_some(j % 4 == 0))
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("p", DataType::Int64, false),
        Field::new("i", DataType::Int64, false),
        Field::new("k", DataType::Int64, true),
        Field::new("v", DataType::Int64, false),
        Field::new("s", DataType::Boolean, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(p)) as ArrayRef,
            Arc::new(Int64Array::from(i)),
            Arc::new(Int64Array::from(k)),
            Arc::new(Int64Array::from(v)),
            Arc::new(BooleanArray::from(s)),
        ],
    )?;
    let batches: Vec<RecordBatch> = (0..rows)
        .step_by(chunk)
        .map(|st| batch.slice(st, chunk.min(rows - st)))
        .collect();
    ctx.register_table("t", Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(ctx)
}

fn aggs() -> Vec<AggCall> {
    let call = |f: &str, args: &[&str], out: &str| AggCall {
        function: f.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        output: out.to_string(),
    };
    vec![
        call("count", &[], "n"),
        call("sum", &["v"], "s"),
        call("first_value", &["i"], "f"),
        call("last_value", &["i"], "l"),
        call("max", &["v"], "mx"),
        call("median", &["v"], "md"),
    ]
}

async fn check(rows: usize, chunk: usize, boundary: Boundary, partition: bool) -> Result<()> {
    let ctx = context(rows, chunk)?;
    let start = match &boundary {
        Boundary::Keys(_) if partition => {
            "CASE WHEN r <> coalesce(lag(r) OVER (PARTITION BY p ORDER BY i), -1) THEN 1 ELSE 0 END"
        }
        Boundary::Keys(_) => "0",
        Boundary::Split(_) if partition => {
            "CASE WHEN coalesce(s, false) OR row_number() OVER (PARTITION BY p ORDER BY i) = 1 THEN 1 ELSE 0 END"
        }
        Boundary::Split(_) => {
            "CASE WHEN coalesce(s, false) OR row_number() OVER (ORDER BY i) = 1 THEN 1 ELSE 0 END"
        }
        Boundary::Predicate(_) => unreachable!("covered by tests/group_split.rs"),
    };
    let run = if partition {
        "run_id(k) OVER (PARTITION BY p ORDER BY i)"
    } else {
        "run_id(k) OVER (ORDER BY i)"
    };
    // Group ids by SQL: run ids of the key, or a running count of starts.
    let gid = match (&boundary, partition) {
        (Boundary::Keys(_), false) => "r",
        _ => "sum(st) OVER (ORDER BY i ROWS UNBOUNDED PRECEDING)",
    };
    let sql = format!(
        "WITH a0 AS (SELECT *, {run} AS r FROM t), \
              a AS (SELECT *, {start} AS st FROM a0), \
              b AS (SELECT *, {gid} AS g FROM a) \
         SELECT g, count(*) AS n, sum(v) AS s, first_value(i ORDER BY i) AS f, \
                last_value(i ORDER BY i) AS l, max(v) AS mx, median(v) AS md \
         FROM b GROUP BY g ORDER BY g"
    );
    let want = ctx.sql(&sql).await?.collect().await?;
    let input = ctx
        .sql("SELECT * FROM t ORDER BY i")
        .await?
        .create_physical_plan()
        .await?;
    let parts = if partition {
        vec!["p".to_string()]
    } else {
        vec![]
    };
    let exec: Arc<dyn ExecutionPlan> = Arc::new(GroupOrderedExec::try_new(
        input,
        None,
        parts,
        boundary,
        aggs(),
        false,
    )?);
    let got = collect(exec.clone(), ctx.task_ctx()).await?;
    let got = concat_batches(&exec.schema(), &got)?;
    let want = concat_batches(&want[0].schema(), &want)?;
    assert_eq!(got.num_rows(), want.num_rows(), "groups");
    for c in 0..got.num_columns() {
        let a = datafusion::arrow::compute::cast(got.column(c), &DataType::Float64)?;
        let b = datafusion::arrow::compute::cast(want.column(c), &DataType::Float64)?;
        assert_eq!(
            a.to_data(),
            b.to_data(),
            "column {}",
            want.schema().field(c).name()
        );
    }
    Ok(())
}

#[tokio::test]
async fn same_groups_as_sql() -> Result<()> {
    for (rows, chunk) in [
        (1, 1),
        (2, 1),
        (40, 3),
        (200, 5),
        (200, 200),
        (64, 2),
        (64, 4),
    ] {
        for partition in [false, true] {
            check(rows, chunk, Boundary::Keys(vec!["k".into()]), partition).await?;
            check(rows, chunk, Boundary::Split("s".into()), partition).await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn empty_input_and_errors() -> Result<()> {
    let ctx = context(10, 3)?;
    let empty = ctx
        .sql("SELECT * FROM t WHERE i < 0 ORDER BY i")
        .await?
        .create_physical_plan()
        .await?;
    let exec = Arc::new(GroupOrderedExec::try_new(
        empty,
        None,
        vec![],
        Boundary::Keys(vec!["k".into()]),
        aggs(),
        false,
    )?);
    let got = collect(exec, ctx.task_ctx()).await?;
    assert_eq!(got.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    let input = ctx
        .sql("SELECT * FROM t ORDER BY i")
        .await?
        .create_physical_plan()
        .await?;
    let err = GroupOrderedExec::try_new(
        Arc::clone(&input),
        None,
        vec![],
        Boundary::Split("k".into()),
        aggs(),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("must be BOOLEAN"), "{err}");
    let bad = vec![AggCall {
        function: "nope".into(),
        args: vec!["v".into()],
        output: "o".into(),
    }];
    let err = GroupOrderedExec::try_new(
        input,
        None,
        vec![],
        Boundary::Keys(vec!["k".into()]),
        bad,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown aggregate function 'nope'"), "{err}");
    Ok(())
}

/// Batches that start exactly where groups start (every batch boundary is a group boundary),
/// with only the native aggregates (no group indices).
#[tokio::test]
async fn groups_starting_at_batch_boundaries() -> Result<()> {
    let ctx = SessionContext::new();
    let schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from((0..12).collect::<Vec<i64>>())) as ArrayRef,
            Arc::new(Int64Array::from(vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])),
        ],
    )?;
    let batches: Vec<RecordBatch> = (0..12).step_by(2).map(|s| batch.slice(s, 2)).collect();
    ctx.register_table("b", Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    let input = ctx
        .sql("SELECT * FROM b")
        .await?
        .create_physical_plan()
        .await?;
    let calls = vec![
        AggCall {
            function: "count".into(),
            args: vec![],
            output: "n".into(),
        },
        AggCall {
            function: "first_value".into(),
            args: vec!["i".into()],
            output: "f".into(),
        },
        AggCall {
            function: "last_value".into(),
            args: vec!["i".into()],
            output: "l".into(),
        },
    ];
    let exec = Arc::new(GroupOrderedExec::try_new(
        input,
        None,
        vec![],
        Boundary::Keys(vec!["k".into()]),
        calls,
        false,
    )?);
    let got = collect(exec.clone(), ctx.task_ctx()).await?;
    let got = concat_batches(&exec.schema(), &got)?;
    assert_eq!(got.num_rows(), 6);
    let col = |c: usize| {
        got.column(c)
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| a.values().to_vec())
            .unwrap_or_default()
    };
    assert_eq!(col(0), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(col(1), vec![2; 6]);
    assert_eq!(col(2), vec![0, 2, 4, 6, 8, 10]);
    assert_eq!(col(3), vec![1, 3, 5, 7, 9, 11]);
    Ok(())
}
