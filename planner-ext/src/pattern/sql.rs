//! The SQL surface of the Pattern operator in Rust sessions:
//! `ltseq_search_pattern('table', 'order columns', 'step columns' [, 'partition columns'])`
//! and `ltseq_search_pattern_count(...)`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::exec::{pattern_schema, PatternExec, PatternOutput};
use crate::ordered::guard::no_panic;
use crate::ordered::sql_args::{arity, names, names_arg_opt, text_arg};
use crate::ordered::{InputTable, OperatorProvider, OperatorTable, Plan, Scan};

pub const SEARCH_PATTERN_FUNCTION_NAME: &str = "ltseq_search_pattern";
pub const SEARCH_PATTERN_COUNT_FUNCTION_NAME: &str = "ltseq_search_pattern_count";

pub(super) fn search_pattern_function() -> Arc<dyn TableFunctionImpl> {
    Arc::new(PatternTableFunction { count: false })
}

pub(super) fn search_pattern_count_function() -> Arc<dyn TableFunctionImpl> {
    Arc::new(PatternTableFunction { count: true })
}

/// `ltseq_search_pattern(...)` (`count == false`) or `ltseq_search_pattern_count(...)`.
#[derive(Debug, Default)]
pub struct PatternTableFunction {
    pub count: bool,
}

impl TableFunctionImpl for PatternTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let who = if self.count {
            SEARCH_PATTERN_COUNT_FUNCTION_NAME
        } else {
            SEARCH_PATTERN_FUNCTION_NAME
        };
        no_panic(who, || {
            let exprs = arity(
                who,
                args.exprs(),
                3,
                4,
                "'table', 'order columns', 'step columns' [, 'partition columns']",
            )?;
            let table = text_arg(who, &exprs[0], 1)?;
            let order = names(&text_arg(who, &exprs[1], 2)?);
            let steps = names(&text_arg(who, &exprs[2], 3)?);
            let partition_by = names_arg_opt(who, exprs, 4)?;
            let columns = order.iter().chain(&partition_by);
            let input = InputTable::lookup_with(args.session(), &table, who, columns)?;
            let output = if self.count {
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
            )) as Arc<dyn TableProvider>)
        })
    }
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
        let plan = scan.all(&self.input, Self::WHO).await?;
        let output = match (self.output, scan.limit) {
            (PatternOutput::Rows { .. }, Some(l)) => PatternOutput::Rows { fetch: Some(l) },
            (o, _) => o,
        };
        let exec = PatternExec::try_new(
            plan,
            None,
            self.steps.clone(),
            self.partition_by.clone(),
            output,
            false,
        )?
        .with_input_order(
            self.partition_by
                .iter()
                .chain(&self.order)
                .cloned()
                .collect(),
        )?;
        Ok(Arc::new(exec))
    }
}
