//! The SQL surface of the `GroupOrdered` operator in Rust sessions: two table functions.
//!
//! ```sql
//! SELECT * FROM ltseq_group_ordered('table', 'order columns', 'key columns', 'aggregates' [, 'partition columns'])
//! SELECT * FROM ltseq_group_split('table', 'order columns', 'split column', 'aggregates' [, 'partition columns'])
//! ```
//!
//! Columns are comma-separated names; the table is read in ascending order of the partition
//! columns, then the order columns (DataFusion sorts it only if it is not already). Aggregates
//! are comma-separated `function(column) [AS name]` of DataFusion's aggregate functions
//! (`count(*)`, `sum(v)`, `first_value(ts)`, ...). The result has one row per group, in
//! sequence order: `__group_id__`, then the aggregates.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::group_ordered::{group_ordered_schema, AggCall, Boundary};
use crate::guard::no_panic;
use crate::scan::lookup_table;
use crate::sql_args::{names, project, text_arg};

pub const GROUP_ORDERED_FUNCTION_NAME: &str = "ltseq_group_ordered";
pub const GROUP_SPLIT_FUNCTION_NAME: &str = "ltseq_group_split";

/// `ltseq_group_ordered(...)` (`split == false`) or `ltseq_group_split(...)`.
#[derive(Debug, Default)]
pub struct GroupOrderedTableFunction {
    pub split: bool,
}

/// Parses `count(*) AS n, sum(v) AS total, max(v)` into calls.
pub fn parse_aggregates(who: &str, text: &str) -> Result<Vec<AggCall>> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    let bad = |item: &str| {
        DataFusionError::Plan(format!(
            "{who}: cannot read the aggregate {:?}: write function(column) [AS name]",
            item.trim()
        ))
    };
    let mut calls = Vec::new();
    for item in items.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        let (call, alias) = match item.to_ascii_lowercase().rfind(" as ") {
            Some(p) => (item[..p].trim(), Some(item[p + 4..].trim().to_string())),
            None => (item, None),
        };
        let open = call.find('(').ok_or_else(|| bad(item))?;
        if !call.ends_with(')') {
            return Err(bad(item));
        }
        let function = call[..open].trim().to_string();
        let inner = call[open + 1..call.len() - 1].trim();
        let args = if inner.is_empty() || inner == "*" {
            vec![]
        } else {
            names(inner)
        };
        if function.is_empty() {
            return Err(bad(item));
        }
        let output = alias.unwrap_or_else(|| {
            if args.is_empty() {
                function.clone()
            } else {
                format!("{function}_{}", args.join("_"))
            }
        });
        calls.push(AggCall {
            function,
            args,
            output,
        });
    }
    if calls.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{who}: give at least one aggregate"
        )));
    }
    Ok(calls)
}

impl TableFunctionImpl for GroupOrderedTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let who = if self.split {
            GROUP_SPLIT_FUNCTION_NAME
        } else {
            GROUP_ORDERED_FUNCTION_NAME
        };
        no_panic(who, || {
            let exprs = args.exprs();
            if !(4..=5).contains(&exprs.len()) {
                return Err(DataFusionError::Plan(format!(
                    "{who} expects 4 or 5 arguments: {who}('table', 'order columns', '{}', 'aggregates' \
                     [, 'partition columns']), got {}",
                    if self.split { "split column" } else { "key columns" },
                    exprs.len()
                )));
            }
            let table = text_arg(who, &exprs[0], 1)?;
            let order = names(&text_arg(who, &exprs[1], 2)?);
            let third = text_arg(who, &exprs[2], 3)?;
            let boundary = if self.split {
                Boundary::Split(third.trim().to_string())
            } else {
                Boundary::Keys(names(&third))
            };
            let aggs = parse_aggregates(who, &text_arg(who, &exprs[3], 4)?)?;
            let partition_by = match exprs.get(4) {
                Some(e) => names(&text_arg(who, e, 5)?),
                None => vec![],
            };
            let input_schema = lookup_table(args.session(), &table, who)?.schema();
            for name in order.iter().chain(&partition_by) {
                input_schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!("{who}: table '{table}' has no column {name:?}"))
                })?;
            }
            let schema = group_ordered_schema(&input_schema, &aggs)?;
            Ok(Arc::new(GroupOrderedSqlTable {
                table,
                order,
                partition_by,
                boundary,
                aggs,
                schema,
            }) as Arc<dyn TableProvider>)
        })
    }
}

#[derive(Debug)]
pub(crate) struct GroupOrderedSqlTable {
    table: String,
    order: Vec<String>,
    partition_by: Vec<String>,
    boundary: Boundary,
    aggs: Vec<AggCall>,
    schema: SchemaRef,
}

impl GroupOrderedSqlTable {
    /// As a logical node's spec: the input ordered by the partition columns, then the order
    /// columns.
    pub(crate) fn node_spec(&self) -> crate::group_node::GroupOrderedSpec {
        let mut input_order = self.partition_by.clone();
        input_order.extend(self.order.iter().cloned());
        crate::group_node::GroupOrderedSpec {
            partition_by: self.partition_by.clone(),
            boundary: self.boundary.clone(),
            aggs: self.aggs.clone(),
            input_order,
        }
    }

    pub(crate) fn input_name(&self) -> &str {
        &self.table
    }
}

#[async_trait]
impl TableProvider for GroupOrderedSqlTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = lookup_table(session, &self.table, GROUP_ORDERED_FUNCTION_NAME)?;
        let plan = input.scan(session, None, &[], None).await?;
        let exec: Arc<dyn ExecutionPlan> = Arc::new(self.node_spec().plan(plan)?);
        project(exec, projection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aggregates() {
        let calls = parse_aggregates(
            "f",
            "count(*) AS n, sum(v) as Total, max( v ), first_value(ts)",
        )
        .unwrap();
        let got: Vec<(&str, Vec<String>, &str)> = calls
            .iter()
            .map(|c| (c.function.as_str(), c.args.clone(), c.output.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("count", vec![], "n"),
                ("sum", vec!["v".to_string()], "Total"),
                ("max", vec!["v".to_string()], "max_v"),
                ("first_value", vec!["ts".to_string()], "first_value_ts"),
            ]
        );
        assert!(parse_aggregates("f", "count").is_err());
        assert!(parse_aggregates("f", " ").is_err());
    }
}
