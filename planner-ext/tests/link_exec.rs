//! The Link operator against a LEFT JOIN: the same rows, with dense, sparse, string and
//! composite keys, NULL and missing keys, small batches and several source partitions; order
//! kept; duplicate keys an error; both the planner route (Rust session) and the provider route.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::error::Result;
use datafusion::physical_plan::collect;
use datafusion::prelude::{SessionConfig, SessionContext};
use ltseq_planner::{
    register_table_functions, session_context_with_ltseq, LinkJoin, LinkSpec, LinkTableProvider,
};

/// Source `s(i, k, b)` in `parts` partitions of batches of `chunk` rows; target `t(k, b, v)`
/// with keys `key(j)` for j in 0..m.
fn tables(
    ctx: &SessionContext,
    n: usize,
    m: usize,
    chunk: usize,
    parts: usize,
    sparse: bool,
) -> Result<()> {
    let key = |j: i64| if sparse { j * 1_000_000_007 } else { j };
    let src_schema = Arc::new(Schema::new(vec![
        Field::new("i", DataType::Int64, false),
        Field::new("k", DataType::Int64, true),
        Field::new("b", DataType::Utf8, true),
    ]));
    let i: Vec<i64> = (0..n as i64).collect();
    let k: Vec<Option<i64>> = (0..n as i64)
        .map(|j| (j % 11 != 3).then(|| key((j * 7919) % (m as i64 + 40))))
        .collect();
    let b: Vec<Option<String>> = (0..n).map(|j| Some(format!("b{}", j % 3))).collect();
    let batch = RecordBatch::try_new(
        Arc::clone(&src_schema),
        vec![
            Arc::new(Int64Array::from(i)) as ArrayRef,
            Arc::new(Int64Array::from(k)),
            Arc::new(StringArray::from(b)),
        ],
    )?;
    let per = n.div_ceil(parts.max(1)).max(1);
    let mut partitions = Vec::new();
    for p in 0..parts {
        let (lo, hi) = ((p * per).min(n), ((p + 1) * per).min(n));
        let batches: Vec<RecordBatch> = (lo..hi)
            .step_by(chunk)
            .map(|st| batch.slice(st, chunk.min(hi - st)))
            .collect();
        partitions.push(batches);
    }
    ctx.register_table("s", Arc::new(MemTable::try_new(src_schema, partitions)?))?;
    let tgt_schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("b", DataType::Utf8, false),
        Field::new("v", DataType::Utf8, true),
    ]));
    let tk: Vec<i64> = (0..m as i64).map(key).collect();
    let tb: Vec<String> = (0..m).map(|j| format!("b{}", j % 3)).collect();
    let tv: Vec<Option<String>> = (0..m)
        .map(|j| (j % 5 != 0).then(|| format!("v{j}")))
        .collect();
    let target = RecordBatch::try_new(
        Arc::clone(&tgt_schema),
        vec![
            Arc::new(Int64Array::from(tk)) as ArrayRef,
            Arc::new(StringArray::from(tb)),
            Arc::new(StringArray::from(tv)),
        ],
    )?;
    let tchunks: Vec<RecordBatch> = (0..m)
        .step_by(chunk)
        .map(|st| target.slice(st, chunk.min(m - st)))
        .collect();
    ctx.register_table("t", Arc::new(MemTable::try_new(tgt_schema, vec![tchunks])?))?;
    Ok(())
}

async fn text(ctx: &SessionContext, sql: &str) -> Result<String> {
    let batches = ctx.sql(sql).await?.collect().await?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Ok("(no rows)".into());
    }
    Ok(pretty_format_batches(&batches)?.to_string())
}

async fn check(ctx: &SessionContext) -> Result<()> {
    for (keys, on) in [("k", "s.k = t.k"), ("k, b", "s.k = t.k AND s.b = t.b")] {
        for join in ["left", "inner"] {
            let linked = text(
                ctx,
                &format!(
                    "SELECT i, x_k, x_v FROM ltseq_link('s', 't', '{keys}', 'x', '{join}') ORDER BY i"
                ),
            )
            .await?;
            let joined = text(
                ctx,
                &format!(
                    "SELECT s.i, t.k AS x_k, t.v AS x_v FROM s {} JOIN t ON {on} ORDER BY s.i",
                    if join == "left" { "LEFT" } else { "INNER" }
                ),
            )
            .await?;
            assert_eq!(linked, joined, "keys {keys}, {join}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn link_equals_left_join() -> Result<()> {
    for sparse in [false, true] {
        for (n, m, chunk, parts) in [
            (0, 5, 3, 1),
            (1, 0, 1, 1),
            (500, 60, 1, 3),
            (3000, 200, 7, 4),
            (2000, 1, 5, 2),
        ] {
            let ctx = session_context_with_ltseq(SessionConfig::new().with_target_partitions(4))?;
            tables(&ctx, n, m, chunk, parts, sparse)?;
            check(&ctx).await?;
        }
    }
    Ok(())
}

/// Without ltseq's planner (the provider route: the operator hides its inputs).
#[tokio::test]
async fn provider_route_equals_left_join() -> Result<()> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    register_table_functions(&ctx);
    tables(&ctx, 3000, 200, 7, 4, false)?;
    check(&ctx).await?;
    let plan = text(
        &ctx,
        "EXPLAIN SELECT i, x_v FROM ltseq_link('s', 't', 'k', 'x')",
    )
    .await?;
    assert!(
        plan.contains("LtseqLinkExec(on=[k = k], fetch=[v]"),
        "{plan}"
    );
    Ok(())
}

/// Each output partition is its source partition, in order.
#[tokio::test]
async fn keeps_each_partition_in_order() -> Result<()> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    tables(&ctx, 5000, 300, 16, 4, false)?;
    let state = ctx.state();
    let source = ctx.table_provider("s").await?;
    let target = ctx.table_provider("t").await?;
    let spec = LinkSpec {
        source_keys: vec!["k".into()],
        target_keys: vec!["k".into()],
        fetch: vec![],
        prefix: "x_".into(),
        join: LinkJoin::Left,
    };
    let provider = LinkTableProvider::try_new("s", source.schema(), "t", target.schema(), spec)?;
    let plan = provider.scan(&state, Some(&vec![0, 5]), &[], None).await?;
    let parts = plan.properties().partitioning.partition_count();
    assert_eq!(parts, 4);
    let mut seen = 0;
    for p in 0..parts {
        let stream = plan.execute(p, ctx.task_ctx())?;
        let batches = datafusion::physical_plan::common::collect(stream).await?;
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map(|a| a.values().to_vec())
                    .unwrap_or_default()
            })
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] + 1 == w[1]),
            "partition {p} out of order"
        );
        seen += ids.len();
    }
    assert_eq!(seen, 5000);
    let all = collect(plan, ctx.task_ctx()).await?;
    assert_eq!(all.iter().map(|b| b.num_rows()).sum::<usize>(), 5000);
    Ok(())
}

#[tokio::test]
async fn duplicate_target_key_is_an_error() -> Result<()> {
    let ctx = session_context_with_ltseq(SessionConfig::new())?;
    ctx.sql("CREATE TABLE a(k VARCHAR) AS VALUES ('x'), ('y')")
        .await?
        .collect()
        .await?;
    ctx.sql("CREATE TABLE b(k VARCHAR, v INT) AS VALUES ('x', 1), ('y', 2), ('x', 3)")
        .await?
        .collect()
        .await?;
    let err = ctx
        .sql("SELECT * FROM ltseq_link('a', 'b', 'k', 'p')")
        .await?
        .collect()
        .await
        .expect_err("duplicate keys must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("the target key k = x occurs more than once (target rows 1 and 3)"),
        "{msg}"
    );
    Ok(())
}
