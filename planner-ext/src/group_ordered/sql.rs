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
use datafusion::catalog::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

use super::exec::{GroupOrderedExec, GroupOrderedExecSpec};
use super::spec::{group_ordered_schema, AggCall, Boundary, GroupOrderedSpec};
use crate::ordered::sql_args::{arity, names, names_arg_opt, text_arg};
use crate::ordered::{
    read_sorted, Functions, InputOrder, InputTable, Layout, OperatorProvider, OperatorTable, Plan,
    Scan, Tables,
};

pub const GROUP_ORDERED_FUNCTION_NAME: &str = "ltseq_group_ordered";
pub const GROUP_SPLIT_FUNCTION_NAME: &str = "ltseq_group_split";

/// `ltseq_group_ordered(...)`.
pub(super) fn group_ordered_function(
    args: &[Expr],
    tables: &dyn Tables,
) -> Result<Arc<dyn TableProvider>> {
    call(false, args, tables)
}

/// `ltseq_group_split(...)`.
pub(super) fn group_split_function(
    args: &[Expr],
    tables: &dyn Tables,
) -> Result<Arc<dyn TableProvider>> {
    call(true, args, tables)
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

/// `ltseq_group_split(...)` when `split`, else `ltseq_group_ordered(...)`.
fn call(split: bool, args: &[Expr], tables: &dyn Tables) -> Result<Arc<dyn TableProvider>> {
    let (who, third) = if split {
        (GROUP_SPLIT_FUNCTION_NAME, "split column")
    } else {
        (GROUP_ORDERED_FUNCTION_NAME, "key columns")
    };
    let usage =
        format!("'table', 'order columns', '{third}', 'aggregates' [, 'partition columns']");
    let exprs = arity(who, args, 4, 5, &usage)?;
    let table = text_arg(who, &exprs[0], 1)?;
    let order = names(&text_arg(who, &exprs[1], 2)?);
    let third = text_arg(who, &exprs[2], 3)?;
    let boundary = if split {
        Boundary::Split(third.trim().to_string())
    } else {
        Boundary::Keys(names(&third))
    };
    let aggs = parse_aggregates(who, &text_arg(who, &exprs[3], 4)?)?;
    let partition_by = names_arg_opt(who, exprs, 5)?;
    let columns = order.iter().chain(&partition_by);
    let input = InputTable::lookup_with(tables, &table, who, columns)?;
    let schema = group_ordered_schema(&input.schema, &aggs)?;
    let mut input_order = partition_by.clone();
    input_order.extend(order);
    let spec = GroupOrderedSpec {
        partition_by,
        boundary,
        aggs,
        input_order,
    };
    Ok(Arc::new(OperatorProvider::new(
        GroupOrderedSql { input, spec },
        schema,
    )))
}

/// The table behind the Rust SQL table functions: the input, ordered as the spec requires,
/// grouped by a visible-input operator.
#[derive(Debug)]
pub struct GroupOrderedSql {
    input: InputTable,
    spec: GroupOrderedSpec,
}

pub(super) type GroupOrderedSqlProvider = OperatorProvider<GroupOrderedSql>;

impl GroupOrderedSql {
    /// As a logical node's spec: the input ordered by the partition columns, then the order
    /// columns.
    pub(super) fn node_spec(&self) -> GroupOrderedSpec {
        self.spec.clone()
    }

    pub(super) fn input(&self) -> &InputTable {
        &self.input
    }
}

#[async_trait]
impl OperatorTable for GroupOrderedSql {
    const WHO: &'static str = GROUP_ORDERED_FUNCTION_NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let plan =
            read_sorted(scan.session, &self.input, &self.spec.input_order, Self::WHO).await?;
        let spec = GroupOrderedExecSpec {
            layout: Layout::hidden(&plan, InputOrder::Single, scan.session),
            partition_by: self.spec.partition_by.clone(),
            boundary: self.spec.boundary.clone(),
            aggs: self.spec.aggs.clone(),
            parallel_ids: false,
        };
        let functions = Functions::of_session(scan.session);
        Ok(Arc::new(GroupOrderedExec::with_functions(
            spec,
            vec![plan],
            true,
            &functions,
        )?))
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
