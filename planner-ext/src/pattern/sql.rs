//! The SQL surface of the Pattern operator in Rust sessions:
//! `ltseq_search_pattern('table', 'order columns', 'step columns' [, 'partition columns'])`
//! and `ltseq_search_pattern_count(...)`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use super::exec::{pattern_schema, PatternExec, PatternOutput, PatternSpec};
use crate::ordered::sql_args::{arity, names, names_arg_opt, text_arg};
use crate::ordered::{
    read_sorted, InputOrder, InputTable, Layout, OperatorProvider, OperatorTable, Plan, Scan,
    Tables,
};

pub const SEARCH_PATTERN_FUNCTION_NAME: &str = "ltseq_search_pattern";
pub const SEARCH_PATTERN_COUNT_FUNCTION_NAME: &str = "ltseq_search_pattern_count";

/// `ltseq_search_pattern(...)`.
pub(super) fn search_pattern_function(
    args: &[Expr],
    tables: &dyn Tables,
) -> Result<Arc<dyn TableProvider>> {
    call(false, args, tables)
}

/// `ltseq_search_pattern_count(...)`.
pub(super) fn search_pattern_count_function(
    args: &[Expr],
    tables: &dyn Tables,
) -> Result<Arc<dyn TableProvider>> {
    call(true, args, tables)
}

/// `ltseq_search_pattern_count(...)` when `count`, else `ltseq_search_pattern(...)`.
fn call(count: bool, args: &[Expr], tables: &dyn Tables) -> Result<Arc<dyn TableProvider>> {
    let who = if count {
        SEARCH_PATTERN_COUNT_FUNCTION_NAME
    } else {
        SEARCH_PATTERN_FUNCTION_NAME
    };
    let exprs = arity(
        who,
        args,
        3,
        4,
        "'table', 'order columns', 'step columns' [, 'partition columns']",
    )?;
    let table = text_arg(who, &exprs[0], 1)?;
    let order = names(&text_arg(who, &exprs[1], 2)?);
    let steps = names(&text_arg(who, &exprs[2], 3)?);
    let partition_by = names_arg_opt(who, exprs, 4)?;
    let columns = order.iter().chain(&partition_by);
    let input = InputTable::lookup_with(tables, &table, who, columns)?;
    let output = if count {
        PatternOutput::Count
    } else {
        PatternOutput::Rows { fetch: None }
    };
    let schema = pattern_schema(&input.schema, &steps, output)?;
    Ok(Arc::new(OperatorProvider::new(
        PatternSql {
            input,
            order,
            steps,
            partition_by,
            output,
        },
        schema,
    )))
}

/// The table behind the Rust SQL table functions: a visible-input operator over the table,
/// which DataFusion orders as required.
#[derive(Debug)]
pub struct PatternSql {
    input: InputTable,
    order: Vec<String>,
    steps: Vec<String>,
    partition_by: Vec<String>,
    output: PatternOutput,
}

#[async_trait]
impl OperatorTable for PatternSql {
    const WHO: &'static str = SEARCH_PATTERN_FUNCTION_NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let order: Vec<String> = self
            .partition_by
            .iter()
            .chain(&self.order)
            .cloned()
            .collect();
        let plan = read_sorted(scan.session, &self.input, &order, Self::WHO).await?;
        let output = match (self.output, scan.limit) {
            (PatternOutput::Rows { .. }, Some(l)) => PatternOutput::Rows { fetch: Some(l) },
            (o, _) => o,
        };
        let spec = PatternSpec {
            layout: Layout::hidden(&plan, InputOrder::Single, scan.session),
            steps: self.steps.clone(),
            partition_by: self.partition_by.clone(),
            output,
        };
        Ok(Arc::new(PatternExec::new(spec, vec![plan], true)?))
    }
}
