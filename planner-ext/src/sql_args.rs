//! Shared pieces of ltseq's table functions and table providers: reading string-literal
//! arguments, comma-separated column lists, and projecting an operator's output.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

/// The text of argument `position` (1-based) of the table function `who`, which must be a
/// string literal.
pub(crate) fn text_arg(who: &str, expr: &Expr, position: usize) -> Result<String> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(s)), _) => Ok(s.clone()),
        other => Err(DataFusionError::Plan(format!(
            "{who}: argument {position} must be a string literal, got {other}"
        ))),
    }
}

/// `"a, b ,c"` as `["a", "b", "c"]` (empty items dropped).
pub(crate) fn names(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `exec` with its output columns reduced and reordered to `projection` (a scan's projection
/// of the operator's schema); `exec` itself when the projection is all columns in order.
pub(crate) fn project(
    exec: Arc<dyn ExecutionPlan>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = exec.schema();
    match projection {
        Some(p)
            if !(p.len() == schema.fields().len()
                && p.iter().enumerate().all(|(i, &j)| i == j)) =>
        {
            let exprs = p
                .iter()
                .map(|&i| {
                    let name = schema.field(i).name().clone();
                    (
                        Arc::new(Column::new(&name, i)) as Arc<dyn PhysicalExpr>,
                        name,
                    )
                })
                .collect::<Vec<_>>();
            Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
        }
        _ => Ok(exec),
    }
}
