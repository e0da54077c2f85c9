//! Runs ltseq's `.slt` SQL specifications against a Rust DataFusion `SessionContext`.
//!
//! The same files are run by the Python test suite against a stock `datafusion.SessionContext`
//! after `ltseq.register(ctx)` (`python/tests/slt_runner.py`), so both worlds are held to one
//! spec. Values are rendered identically in both runners: see [`format_value`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::{SessionConfig, SessionContext};
use sqllogictest::{DBOutput, DefaultColumnType};

/// A `SessionContext` with every ltseq function and operator installed, as a Rust user would
/// set it up.
pub fn ltseq_context(target_partitions: usize) -> Result<SessionContext> {
    let config = SessionConfig::new().with_target_partitions(target_partitions);
    let ctx = ltseq_planner::session_context_with_ltseq(config)?;
    Ok(ctx)
}

/// One connection of the sqllogictest runner.
pub struct LtseqDb {
    ctx: SessionContext,
}

impl LtseqDb {
    pub fn new(ctx: SessionContext) -> Self {
        Self { ctx }
    }
}

/// The error type reported to the runner: DataFusion's message, unchanged.
#[derive(Debug)]
pub struct SltError(pub String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

impl From<DataFusionError> for SltError {
    fn from(e: DataFusionError) -> Self {
        SltError(e.to_string())
    }
}

#[async_trait]
impl sqllogictest::AsyncDB for LtseqDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(
        &mut self,
        sql: &str,
    ) -> std::result::Result<DBOutput<DefaultColumnType>, SltError> {
        let df = self.ctx.sql(sql).await?;
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await?;
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect::<Vec<_>>();
        let mut rows = Vec::new();
        for batch in &batches {
            rows.extend(format_batch(batch)?);
        }
        if rows.is_empty() && types.is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "ltseq-rust"
    }
}

fn column_type(dt: &DataType) -> DefaultColumnType {
    use DataType::*;
    match dt {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => {
            DefaultColumnType::Integer
        }
        Float16
        | Float32
        | Float64
        | Decimal32(_, _)
        | Decimal64(_, _)
        | Decimal128(_, _)
        | Decimal256(_, _) => DefaultColumnType::FloatingPoint,
        Utf8 | LargeUtf8 | Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

/// Renders every row of a batch with [`format_value`].
pub fn format_batch(batch: &RecordBatch) -> Result<Vec<Vec<String>>> {
    let mut rows = vec![Vec::with_capacity(batch.num_columns()); batch.num_rows()];
    for column in batch.columns() {
        for (i, row) in rows.iter_mut().enumerate() {
            row.push(format_value(column, i)?);
        }
    }
    Ok(rows)
}

/// The text of one value, as both runners print it: `NULL`; `(empty)` for an empty string;
/// floats rounded to 12 significant digits, in plain decimal notation without a trailing `.0`
/// (`NaN`, `inf`, `-inf`); `true`/`false`; dates and timestamps in ISO 8601; anything else
/// as Arrow displays it.
pub fn format_value(array: &ArrayRef, row: usize) -> Result<String> {
    use datafusion::arrow::array::{Float16Array, Float32Array, Float64Array};
    if array.is_null(row) {
        return Ok("NULL".to_string());
    }
    let any = array.as_any();
    let float = match array.data_type() {
        DataType::Float64 => any.downcast_ref::<Float64Array>().map(|a| a.value(row)),
        DataType::Float32 => any
            .downcast_ref::<Float32Array>()
            .map(|a| a.value(row) as f64),
        DataType::Float16 => any
            .downcast_ref::<Float16Array>()
            .map(|a| a.value(row).to_f64()),
        _ => None,
    };
    if let Some(v) = float {
        return Ok(format_float(v));
    }
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(array.as_ref(), &options)?;
    let text = formatter.value(row).to_string();
    if text.is_empty()
        && matches!(
            array.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    {
        return Ok("(empty)".to_string());
    }
    Ok(text)
}

/// See [`format_value`].
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let rounded: f64 = format!("{v:.11e}").parse().unwrap_or(v);
    let text = format!("{rounded}");
    match text.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => text,
    }
}

/// The `.slt` files, in name order.
pub fn slt_files() -> std::io::Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("slt");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "slt") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Convenience for tests: a fresh connection.
pub fn new_db() -> Result<LtseqDb> {
    Ok(LtseqDb::new(ltseq_context(4)?))
}

#[allow(dead_code)]
fn _assert_send(_: Arc<LtseqDb>) {}

#[cfg(test)]
mod tests {
    use super::format_float;

    #[test]
    fn floats_render_like_the_python_runner() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(1e20), "100000000000000000000");
        assert_eq!(format_float(1e-7), "0.0000001");
        assert_eq!(format_float(2.5), "2.5");
        assert_eq!(format_float(f64::NAN), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_float(7.0710678118654755), "7.07106781187");
    }
}
