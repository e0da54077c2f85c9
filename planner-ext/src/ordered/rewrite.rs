//! Turning a scan of an operator's table into the operator's logical node (what ltseq's query
//! planner does on the planner route), keeping what the scan asked for.

use std::sync::Arc;

use datafusion::catalog::default_table_source::provider_as_source;
use datafusion::catalog::Session;
use datafusion::common::Column;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, LogicalPlanBuilder, TableScan, UserDefinedLogicalNode,
};

use super::catalog::InputTable;

/// A plan scanning the columns `columns` (ascending indices) of an input table.
pub fn input_scan(
    session: &dyn Session,
    input: &InputTable,
    columns: Vec<usize>,
    who: &str,
) -> Result<LogicalPlan> {
    let table = input.resolve(session, who)?;
    LogicalPlanBuilder::scan(
        input.name.as_str(),
        provider_as_source(table),
        Some(columns),
    )?
    .build()
}

/// `node` in place of `scan`, a scan of a table whose columns are `names`: under the scan's
/// name, with its projection (by name), its filters and its limit above.
pub fn scan_as_node(
    scan: &TableScan,
    node: Arc<dyn UserDefinedLogicalNode>,
    names: &[String],
) -> Result<LogicalPlan> {
    let wanted: Vec<usize> = match &scan.projection {
        Some(p) => p.clone(),
        None => (0..names.len()).collect(),
    };
    let columns: Vec<Expr> = wanted
        .iter()
        .map(|&i| Expr::Column(Column::new(Some(scan.table_name.clone()), &names[i])))
        .collect();
    let mut builder = LogicalPlanBuilder::from(LogicalPlan::Extension(Extension { node }))
        .alias(scan.table_name.clone())?
        .project(columns)?;
    if !scan.filters.is_empty() {
        let predicate = scan
            .filters
            .iter()
            .cloned()
            .reduce(|a, b| a.and(b))
            .ok_or_else(|| DataFusionError::Internal("empty filter list".into()))?;
        builder = builder.filter(predicate)?;
    }
    if let Some(fetch) = scan.fetch {
        builder = builder.limit(0, Some(fetch))?;
    }
    builder.build()
}

/// The projection `scan` asks of a table with `n` columns (all when it asks none).
pub fn wanted(scan: &TableScan, n: usize) -> Vec<usize> {
    match &scan.projection {
        Some(p) => p.clone(),
        None => (0..n).collect(),
    }
}
