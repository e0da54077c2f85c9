//! SQL windows of ltseq's functions on the Window operator (ltseq's planner): the same rows as
//! DataFusion's own window operators give for the same SQL, on data with NULLs, ties in the
//! `ORDER BY`, one-row and long partitions, several input partitions, no `PARTITION BY`,
//! several calls and windows in one query; and the plan shows the operator where it applies
//! and DataFusion's operator where it does not.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::catalog::MemTable;
use datafusion::error::Result;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Rows (g, t, x, i) in no order, in `pieces` partitions: g partitions of 1 to 40 rows, t with
/// ties, x with NULLs, i unique (it breaks ties, so both engines see one row order).
fn table(rows: usize, pieces: usize) -> Result<MemTable> {
    let mut state = 12345u64;
    let mut next = |m: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let mut g = Vec::with_capacity(rows);
    let mut t = Vec::with_capacity(rows);
    let mut x = Vec::with_capacity(rows);
    for _ in 0..rows {
        let key = next(40);
        g.push(key as i64 * (key as i64 % 3)); // sizes vary; some keys share a group
        t.push(next(rows as u64 / 4 + 1) as i64);
        x.push((next(6) != 0).then(|| next(1000) as f64 / 8.0 - 40.0));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, false),
        Field::new("t", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
        Field::new("i", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(g)) as ArrayRef,
            Arc::new(Int64Array::from(t)),
            Arc::new(Float64Array::from(x)),
            Arc::new(Int64Array::from((0..rows as i64).collect::<Vec<_>>())),
        ],
    )?;
    let step = rows.div_ceil(pieces).max(1);
    let parts = (0..rows)
        .step_by(step)
        .map(|s| vec![batch.slice(s, step.min(rows - s))])
        .collect::<Vec<_>>();
    MemTable::try_new(
        schema,
        if parts.is_empty() {
            vec![vec![]]
        } else {
            parts
        },
    )
}

async fn rows(ctx: &SessionContext, sql: &str) -> Result<String> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(pretty_format_batches(&batches)?.to_string())
}

async fn plan(ctx: &SessionContext, sql: &str) -> Result<String> {
    rows(ctx, &format!("EXPLAIN {sql}")).await
}

async fn contexts(rows: usize, pieces: usize) -> Result<(SessionContext, SessionContext)> {
    let config = SessionConfig::new()
        .with_target_partitions(3)
        .with_batch_size(37);
    let ours = ltseq_planner::session_context_with_ltseq(config.clone())?;
    let theirs = SessionContext::new_with_config(config);
    ltseq_udf::register_all(&theirs)?;
    for ctx in [&ours, &theirs] {
        ctx.register_table("t", Arc::new(table(rows, pieces)?))?;
    }
    Ok((ours, theirs))
}

const QUERIES: &[&str] = &[
    // ties in t and x: i breaks them (a total order), so both engines see the same row order
    "SELECT g, t, x, diff(x) OVER w AS d, cum_sum(x) OVER w AS c, rolling_avg(x, 3) OVER w AS m, \
     run_id(x) OVER w AS r FROM t WINDOW w AS (PARTITION BY g ORDER BY t, x, i) ORDER BY g, t, x, i",
    "SELECT g, t, x, rolling_max(x, 5, 2) OVER (ORDER BY g, t, x, i) AS m, \
     pct_change(x) OVER (ORDER BY g, t, x, i) AS p FROM t ORDER BY g, t, x, i",
    // two windows with different partitions: two operators
    "SELECT g, t, x, cum_count(x) OVER (PARTITION BY g ORDER BY t, x, i) AS a, \
     cum_max(x) OVER (PARTITION BY t % 3 ORDER BY g, t, x, i) AS b FROM t ORDER BY g, t, x, i",
    "SELECT count(*) AS n, sum(d) AS s FROM (SELECT diff(x) OVER (PARTITION BY g ORDER BY t, x, i) \
     AS d FROM t) s WHERE d > 0",
    "SELECT g, t, x, diff(x, 2) OVER w AS d, cum_sum(x) OVER w AS c, rolling_std(x, 4, 2) OVER w \
     AS s, rolling_min(x, 3) OVER w AS lo, cum_min(x) OVER w AS m, rolling_count(x, 2) OVER w AS k \
     FROM t WINDOW w AS (PARTITION BY g ORDER BY t, x, i) ORDER BY g, t, x, i",
    // DataFusion's own functions that need no frame
    "SELECT g, t, x, lag(x) OVER w AS a, lead(x, 2) OVER w AS b, lag(x, 1, 0.5) OVER w AS c, \
     lead(t, 1, -1) OVER w AS e, row_number() OVER w AS r, ntile(3) OVER w AS n, \
     diff(x) OVER w AS d FROM t WINDOW w AS (PARTITION BY g ORDER BY t, x, i) ORDER BY g, t, x, i",
    // aggregates over row frames ending at the current row
    "SELECT g, t, x, sum(x) OVER (PARTITION BY g ORDER BY t, x, i ROWS BETWEEN 2 PRECEDING AND \
     CURRENT ROW) AS s, avg(x) OVER (PARTITION BY g ORDER BY t, x, i ROWS BETWEEN 2 PRECEDING \
     AND CURRENT ROW) AS m, min(x) OVER (PARTITION BY g ORDER BY t, x, i ROWS BETWEEN 4 PRECEDING \
     AND CURRENT ROW) AS lo, max(x) OVER (PARTITION BY g ORDER BY t, x, i ROWS BETWEEN 0 \
     PRECEDING AND CURRENT ROW) AS hi, count(x) OVER (PARTITION BY g ORDER BY t, x, i ROWS \
     BETWEEN 3 PRECEDING AND CURRENT ROW) AS k, sum(t) OVER (PARTITION BY g ORDER BY t, x, i \
     ROWS BETWEEN 1000 PRECEDING AND CURRENT ROW) AS st FROM t ORDER BY g, t, x, i",
    "SELECT g, t, x, sum(x) OVER w AS s, sum(t) OVER w AS st, count(x) OVER w AS k, \
     count(*) OVER w AS n FROM t \
     WINDOW w AS (PARTITION BY g ORDER BY t, x, i ROWS UNBOUNDED PRECEDING) ORDER BY g, t, x, i",
    // the benchmark's rolling mean, written as plain SQL (rounded: the outer sum adds in any order)
    "SELECT round(sum(m), 6) AS s FROM (SELECT CASE WHEN count(x) OVER f >= 3 THEN avg(x) OVER f END AS m \
     FROM t WINDOW f AS (PARTITION BY g ORDER BY t, i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)) s",
    // stays with DataFusion (a running min or max: DataFusion declares its order with NULLs
    // last, which the operator does not claim; count(*) over a sliding frame)
    "SELECT g, t, x, min(x) OVER w AS lo, max(t) OVER w AS hi, count(*) OVER (PARTITION BY g \
     ORDER BY t, x, i ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS n FROM t \
     WINDOW w AS (PARTITION BY g ORDER BY t, x, i ROWS UNBOUNDED PRECEDING) ORDER BY g, t, x, i",
];

#[tokio::test]
async fn ltseqs_windows_give_datafusions_rows() -> Result<()> {
    for (n, pieces) in [(0, 1), (1, 1), (500, 1), (3000, 4), (20_000, 7)] {
        let (ours, theirs) = contexts(n, pieces).await?;
        for sql in QUERIES {
            assert_eq!(
                rows(&ours, sql).await?,
                rows(&theirs, sql).await?,
                "{n} rows in {pieces} pieces: {sql}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_plan_shows_the_window_operator_where_it_applies() -> Result<()> {
    let (ours, _) = contexts(100, 2).await?;
    for sql in [
        QUERIES[1], QUERIES[3], QUERIES[4], QUERIES[5], QUERIES[6], QUERIES[7], QUERIES[8],
    ] {
        let on = plan(&ours, sql).await?;
        assert!(on.contains("LtseqWindowExec"), "{on}");
        assert!(
            !on.contains("BoundedWindowAggExec") && !on.contains(" WindowAggExec"),
            "{on}"
        );
    }
    // a result that rises within its partition (run_id, row_number) keeps that order on the
    // operator, so a GROUP BY of it still streams
    let runs =
        "SELECT g, r, count(*) AS n FROM (SELECT g, run_id(x) OVER (PARTITION BY g ORDER BY t, i) \
                AS r FROM t) s GROUP BY g, r";
    let on = plan(&ours, runs).await?;
    assert!(
        on.contains("LtseqWindowExec") && on.contains("ordering_mode=Sorted"),
        "{on}"
    );
    // a function or frame the operator does not compute, or an argument that is not a column,
    // stays with DataFusion
    for sql in [
        "SELECT first_value(x) OVER (PARTITION BY g ORDER BY t) AS l FROM t",
        "SELECT lag(x) IGNORE NULLS OVER (PARTITION BY g ORDER BY t) AS l FROM t",
        "SELECT rank() OVER (PARTITION BY g ORDER BY t) AS l FROM t",
        "SELECT sum(x) OVER (PARTITION BY g ORDER BY t) AS l FROM t",
        "SELECT sum(x) OVER (PARTITION BY g ORDER BY t ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS l FROM t",
        "SELECT sum(x) OVER (PARTITION BY g ORDER BY t RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS l FROM t",
        "SELECT avg(x) OVER (PARTITION BY g ORDER BY t ROWS UNBOUNDED PRECEDING) AS l FROM t",
        "SELECT count(DISTINCT x) OVER (PARTITION BY g ORDER BY t ROWS UNBOUNDED PRECEDING) AS l FROM t",
        "SELECT lag(x) OVER (PARTITION BY g ORDER BY t DESC) AS l FROM t",
        "SELECT diff(x + 1) OVER (PARTITION BY g ORDER BY t) AS d FROM t",
        "SELECT sum(x) OVER (PARTITION BY g ORDER BY t) AS s, diff(x) OVER (PARTITION BY g ORDER BY t) AS d FROM t",
    ] {
        let off = plan(&ours, sql).await?;
        assert!(!off.contains("LtseqWindowExec"), "{sql}\n{off}");
    }
    Ok(())
}
