//! Argument handling shared by the functions: type classes, coercion, literal arguments.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;

pub(crate) fn plan_err<T>(msg: impl Into<String>) -> Result<T> {
    Err(DataFusionError::Plan(msg.into()))
}

pub(crate) fn is_integer(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

pub(crate) fn is_float(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Float16 | DataType::Float32 | DataType::Float64
    )
}

pub(crate) fn is_temporal(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Duration(_)
    )
}

/// The numeric type a function computes in: integers as Int64, floats as Float64, decimals as
/// Decimal128 with the same scale (NULL-typed input as Float64).
pub(crate) fn numeric_coercion(func: &str, what: &str, dt: &DataType) -> Result<DataType> {
    match dt {
        d if is_integer(d) => Ok(DataType::Int64),
        d if is_float(d) => Ok(DataType::Float64),
        DataType::Null => Ok(DataType::Float64),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            Ok(DataType::Decimal128(*p, *s))
        }
        other => plan_err(format!(
            "{func}: {what} must be numeric, got {other} ({func} needs a number)"
        )),
    }
}

/// Like [`numeric_coercion`], but dates, times, timestamps and durations pass unchanged
/// (for functions that only compare values: min, max).
pub(crate) fn orderable_coercion(func: &str, what: &str, dt: &DataType) -> Result<DataType> {
    if is_temporal(dt) {
        return Ok(dt.clone());
    }
    numeric_coercion(func, what, dt).map_err(|_| {
        DataFusionError::Plan(format!(
            "{func}: {what} must be numeric or temporal, got {dt} ({func} needs a number or a date)"
        ))
    })
}

/// Checks that an optional integer argument (a window size, an offset) has an integer type and
/// coerces it to Int64.
pub(crate) fn integer_arg(func: &str, what: &str, dt: &DataType) -> Result<DataType> {
    if is_integer(dt) || dt == &DataType::Null {
        Ok(DataType::Int64)
    } else {
        plan_err(format!(
            "{func}: {what} must be an integer literal, got a value of type {dt}"
        ))
    }
}

/// The value of a literal argument. The physical expression is evaluated on one row of an empty
/// batch: a literal (also one reaching ltseq through the FFI, where it is not a `Literal` node)
/// evaluates, a column reference does not.
pub(crate) fn literal_i64(
    exprs: &[Arc<dyn PhysicalExpr>],
    index: usize,
    func: &str,
    what: &str,
) -> Result<Option<i64>> {
    let Some(expr) = exprs.get(index) else {
        return Ok(None);
    };
    let not_literal =
        || DataFusionError::Plan(format!("{func}: {what} must be an integer literal"));
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    let value = match expr.evaluate(&batch).map_err(|_| not_literal())? {
        ColumnarValue::Scalar(s) => s,
        ColumnarValue::Array(a) if a.len() == 1 => ScalarValue::try_from_array(&a, 0)?,
        ColumnarValue::Array(_) => return Err(not_literal()),
    };
    if value.is_null() {
        return plan_err(format!(
            "{func}: {what} must be an integer literal, got NULL"
        ));
    }
    match value.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(Some(v)) => Ok(Some(v)),
        _ => Err(not_literal()),
    }
}
