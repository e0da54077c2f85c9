//! The Pattern operator: matching each input partition in parallel (with the matches that
//! start at a partition's end decided by the following partitions, even tiny or empty ones)
//! gives the same matches as one ordered pass, and the same as a plain loop.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::error::Result;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use ltseq_planner::{PatternExec, PatternOutput};

/// Rows 0..n: key = i / 7, steps a (i % 3 != 2), b (i % 5 < 2), c (i % 2 == 0, NULL every 11th).
fn batch(n: usize) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
        Field::new("a", DataType::Boolean, false),
        Field::new("b", DataType::Boolean, false),
        Field::new("c", DataType::Boolean, true),
    ]));
    let i: Vec<i64> = (0..n as i64).collect();
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(i.clone())) as ArrayRef,
            Arc::new(Int64Array::from(
                i.iter().map(|x| x / 7).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                i.iter().map(|x| x % 3 != 2).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                i.iter().map(|x| x % 5 < 2).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                i.iter()
                    .map(|x| (x % 11 != 0).then_some(x % 2 == 0))
                    .collect::<Vec<_>>(),
            )),
        ],
    )?)
}

fn oracle(n: usize, steps: &[&str], keyed: bool) -> Vec<i64> {
    let value = |s: &str, x: i64| match s {
        "a" => x % 3 != 2,
        "b" => x % 5 < 2,
        _ => x % 11 != 0 && x % 2 == 0,
    };
    let k = steps.len() as i64;
    (0..n as i64 - k + 1)
        .filter(|&i| {
            steps
                .iter()
                .enumerate()
                .all(|(j, s)| value(s, i + j as i64))
                && (!keyed || (i..i + k).all(|r| r / 7 == i / 7))
        })
        .collect()
}

async fn run(
    table: MemTable,
    steps: &[&str],
    keyed: bool,
    output: PatternOutput,
    parallel: bool,
) -> Result<Vec<RecordBatch>> {
    let ctx = SessionContext::new();
    let plan = table.scan(&ctx.state(), None, &[], None).await?;
    let steps: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
    let keys = if keyed { vec!["k".to_string()] } else { vec![] };
    let mut exec = PatternExec::try_new(plan, None, steps, keys, output, true)?;
    if parallel {
        exec = exec.with_parallel_partitions()?;
    }
    let exec: Arc<dyn ExecutionPlan> = Arc::new(exec);
    let mut out = Vec::new();
    for p in 0..exec.properties().partitioning.partition_count() {
        let stream = exec.execute(p, ctx.task_ctx())?;
        out.extend(datafusion::physical_plan::common::collect(stream).await?);
    }
    Ok(out)
}

#[tokio::test]
async fn parallel_partitions_agree_with_one_pass() -> Result<()> {
    let n = 400;
    let all = batch(n)?;
    // partitions of uneven sizes, some empty or shorter than the pattern
    let cuts = [0usize, 0, 1, 2, 2, 40, 41, 43, 150, 151, 300, 399, 400];
    let mut partitions = Vec::new();
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let parts: Vec<RecordBatch> = (lo..hi)
            .step_by(3)
            .map(|s| all.slice(s, 3.min(hi - s)))
            .collect();
        partitions.push(parts);
    }
    for steps in [
        vec!["a"],
        vec!["a", "b"],
        vec!["b", "a", "c"],
        vec!["c", "c", "a", "b"],
    ] {
        for keyed in [false, true] {
            let expected = oracle(n, &steps, keyed);
            let table = || MemTable::try_new(all.schema(), partitions.clone());
            let single = || MemTable::try_new(all.schema(), vec![vec![all.clone()]]);
            for (t, parallel) in [(table()?, true), (single()?, false)] {
                let rows = run(
                    t,
                    &steps,
                    keyed,
                    PatternOutput::Rows { fetch: None },
                    parallel,
                )
                .await?;
                let got: Vec<i64> = rows
                    .iter()
                    .flat_map(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<Int64Array>()
                            .map(|a| a.values().to_vec())
                            .unwrap_or_default()
                    })
                    .collect();
                assert_eq!(
                    got, expected,
                    "rows {steps:?} keyed={keyed} parallel={parallel}"
                );
            }
            let counts = run(table()?, &steps, keyed, PatternOutput::Count, true).await?;
            let total: i64 = counts
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .map(|a| a.values().to_vec())
                        .unwrap_or_default()
                })
                .sum();
            assert_eq!(
                total as usize,
                expected.len(),
                "count {steps:?} keyed={keyed}"
            );
        }
    }
    Ok(())
}
