//! Measures `run_id` in DataFusion's two window-evaluation modes on 10 million rows:
//!
//! - whole partition (`evaluate_all`, planned as `WindowAggExec`): what ltseq ships;
//! - streaming (`evaluate` per row, planned as `BoundedWindowAggExec`): a variant written here
//!   for the comparison only. It computes ids vectorized per batch and caches them, so its cost
//!   is DataFusion's per-row call and `ScalarValue` building, not the comparison itself.
//!
//! `cargo run --release -p ltseq-udf --example run_id_modes [rows]` (the numbers in
//! docs/architecture.md come from `cargo run -p ltseq-udf --example run_id_modes`, whose dev
//! profile is optimized here).

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::catalog::MemTable;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use ltseq_udf::run_id::key_changes;

#[derive(Debug, PartialEq, Eq, Hash)]
struct RunIdStreaming {
    signature: Signature,
}

impl WindowUDFImpl for RunIdStreaming {
    fn name(&self) -> &str {
        "run_id_streaming"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(StreamingEvaluator::default()))
    }
    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Int64,
            false,
        )))
    }
}

#[derive(Debug, Default)]
struct StreamingEvaluator {
    /// Ids computed for rows `cache_start..` of the buffer identified by `cache_key`.
    cache: Vec<i64>,
    cache_start: usize,
    cache_key: (usize, usize),
    /// The last row evaluated (a one-row slice of each key) and its id.
    last_row: Option<Vec<ArrayRef>>,
    last_id: i64,
}

impl PartitionEvaluator for StreamingEvaluator {
    fn supports_bounded_execution(&self) -> bool {
        true
    }

    fn is_causal(&self) -> bool {
        true
    }

    fn evaluate(&mut self, values: &[ArrayRef], range: &Range<usize>) -> Result<ScalarValue> {
        let idx = range.start;
        let len = values[0].len();
        let key = (
            values[0]
                .to_data()
                .buffers()
                .first()
                .map(|b| b.as_ptr() as usize)
                .unwrap_or(0),
            len,
        );
        if key != self.cache_key
            || idx < self.cache_start
            || idx >= self.cache_start + self.cache.len()
        {
            // Vectorized ids for rows idx..len, continuing from the last evaluated row.
            let block: Vec<ArrayRef> = match &self.last_row {
                Some(prev) => values
                    .iter()
                    .zip(prev)
                    .map(|(v, p)| {
                        datafusion::arrow::compute::concat(&[
                            p.as_ref(),
                            v.slice(idx, len - idx).as_ref(),
                        ])
                    })
                    .collect::<std::result::Result<_, _>>()?,
                None => values.iter().map(|v| v.slice(idx, len - idx)).collect(),
            };
            let n = block[0].len();
            let changes = key_changes(&block, n)?;
            let mut ids = Vec::with_capacity(len - idx);
            let mut id = self.last_id;
            let skip = usize::from(self.last_row.is_some());
            if skip == 0 {
                id = 1;
                ids.push(id);
            }
            for changed in changes.iter() {
                id += changed as i64;
                ids.push(id);
            }
            self.cache = ids;
            self.cache_start = idx;
            self.cache_key = key;
        }
        let id = self.cache[idx - self.cache_start];
        self.last_row = Some(values.iter().map(|v| v.slice(idx, 1)).collect());
        self.last_id = id;
        Ok(ScalarValue::Int64(Some(id)))
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    // A key that changes every 1 to 16 rows (deterministic), in time order.
    let t: Vec<i64> = (0..rows as i64).collect();
    let k: Vec<i64> = (0..rows as i64)
        .map(|i| (i / (1 + (i * 7919) % 16)) % 5)
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
    ]));
    let batches: Vec<RecordBatch> = (0..rows)
        .step_by(8192)
        .map(|s| {
            let e = (s + 8192).min(rows);
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(t[s..e].to_vec())),
                    Arc::new(Int64Array::from(k[s..e].to_vec())),
                ],
            )
        })
        .collect::<std::result::Result<_, _>>()?;
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    ltseq_udf::register_all(&ctx)?;
    ctx.register_udwf(WindowUDF::from(RunIdStreaming {
        signature: Signature::any(1, Volatility::Immutable),
    }));
    // Declared order (as `assume_sorted` would): no sort runs, only the window.
    let table = MemTable::try_new(schema, vec![batches])?
        .with_sort_order(vec![vec![datafusion::prelude::col("t").sort(true, false)]]);
    ctx.register_table("x", Arc::new(table))?;

    for (label, f) in [
        ("whole partition (evaluate_all)", "run_id"),
        ("streaming (evaluate per row)", "run_id_streaming"),
    ] {
        let sql =
            format!("SELECT max(r) AS runs FROM (SELECT {f}(k) OVER (ORDER BY t) AS r FROM x)");
        let mut best = f64::MAX;
        let mut runs = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let out = ctx.sql(&sql).await?.collect().await?;
            best = best.min(start.elapsed().as_secs_f64());
            runs = out[0]
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .map(|a| a.value(0))
                .unwrap_or(-1);
        }
        println!("{label:34} {rows} rows: {best:.3} s (best of 3), {runs} runs");
    }
    Ok(())
}
