//! `ltseq_asof_join('left', 'right', 'on' [, 'by' [, 'strategy' [, tolerance]]])`.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

use super::spec::{AsofSpec, AsofStrategy, Tolerance, ASOF_FUNCTION_NAME};
use super::table::AsofTableProvider;
use crate::ordered::sql_args::{arity, key_pairs, text_arg};
use crate::ordered::{InputTable, Tables};

const WHO: &str = ASOF_FUNCTION_NAME;

/// The tolerance argument: a number, or an interval of days and smaller units.
fn tolerance(expr: &Expr) -> Result<Tolerance> {
    let bad = || {
        DataFusionError::Plan(format!(
            "{WHO}: argument 6 (the tolerance) must be a number or an INTERVAL without months, got {expr}"
        ))
    };
    let Expr::Literal(value, _) = expr else {
        return Err(bad());
    };
    Ok(match value {
        ScalarValue::IntervalMonthDayNano(Some(v)) if v.months == 0 => {
            Tolerance::Nanos(v.days as i64 * 86_400_000_000_000 + v.nanoseconds)
        }
        ScalarValue::IntervalDayTime(Some(v)) => {
            Tolerance::Nanos(v.days as i64 * 86_400_000_000_000 + v.milliseconds as i64 * 1_000_000)
        }
        ScalarValue::DurationSecond(Some(v)) => Tolerance::Nanos(v * 1_000_000_000),
        ScalarValue::DurationMillisecond(Some(v)) => Tolerance::Nanos(v * 1_000_000),
        ScalarValue::DurationMicrosecond(Some(v)) => Tolerance::Nanos(v * 1_000),
        ScalarValue::DurationNanosecond(Some(v)) => Tolerance::Nanos(*v),
        v if v.data_type().is_numeric() && !v.is_null() => {
            let f = v.cast_to(&datafusion::arrow::datatypes::DataType::Float64)?;
            match f {
                ScalarValue::Float64(Some(n)) => Tolerance::Number(n),
                _ => return Err(bad()),
            }
        }
        _ => return Err(bad()),
    })
}

/// Parses `'left_col = right_col, ...'` (one name for both sides).
fn pairs(text: &str, what: &str) -> Result<(Vec<String>, Vec<String>)> {
    key_pairs(WHO, text, &format!("left_{what} = right_{what}"))
}

pub(super) fn table_function(args: &[Expr], tables: &dyn Tables) -> Result<Arc<dyn TableProvider>> {
    let exprs = arity(
        WHO,
        args,
        3,
        6,
        "'left', 'right', 'on' [, 'by' [, 'backward' | 'forward' | 'nearest' [, tolerance]]]",
    )?;
    let left = text_arg(WHO, &exprs[0], 1)?;
    let right = text_arg(WHO, &exprs[1], 2)?;
    let (mut left_on, mut right_on) = pairs(&text_arg(WHO, &exprs[2], 3)?, "on")?;
    if left_on.len() != 1 {
        return Err(DataFusionError::Plan(format!(
            "{WHO}: argument 3 names one on column (or 'left_on = right_on'), got {}",
            left_on.len()
        )));
    }
    let (left_by, right_by) = match exprs.get(3) {
        Some(e) => pairs(&text_arg(WHO, e, 4)?, "by")?,
        None => (vec![], vec![]),
    };
    let strategy = match exprs.get(4) {
        Some(e) => AsofStrategy::parse(&text_arg(WHO, e, 5)?)?,
        None => AsofStrategy::Backward,
    };
    let tolerance = exprs.get(5).map(tolerance).transpose()?;
    let left = InputTable::lookup(tables, &left, WHO)?;
    let right = InputTable::lookup(tables, &right, WHO)?;
    let spec = AsofSpec::new(
        &left.schema,
        &right.schema,
        left_on.remove(0),
        right_on.remove(0),
        left_by,
        right_by,
        strategy,
        tolerance,
        "_right",
    )?;
    Ok(Arc::new(AsofTableProvider::try_new(
        left.name,
        left.schema,
        right.name,
        right.schema,
        spec,
    )?))
}
