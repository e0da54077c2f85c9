//! SQL windows on the Window operator: a physical plan's `BoundedWindowAggExec` or
//! `WindowAggExec` whose every call is one of ltseq's window functions becomes a Window
//! operator over the same input, which evaluates the calls vectorized, partition after
//! partition of each input partition, instead of DataFusion's operator calling the functions
//! one `PARTITION BY` partition at a time. Applied by ltseq's query planner to the plans it
//! makes (a Rust session with it, or a host with `register(ctx, planner=True)`).
//!
//! It applies only where the values cannot change: every call is a `StandardWindowExpr` of an
//! ltseq function (which reject frames, `DISTINCT` and `IGNORE NULLS` when planned), over
//! columns and constants only, all with the same `PARTITION BY` columns; and each input
//! partition is proven sorted by the partition keys, then the call's `ORDER BY` (the order
//! DataFusion's window operator needs), so every `PARTITION BY` partition is contiguous and in
//! window order. The output columns are the window node's, by name and type, and the orders it
//! declares hold of the operator's output (which declares its input's); otherwise the node
//! stays.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::window::{StandardWindowExpr, WindowExpr};
use datafusion::physical_expr::PhysicalSortRequirement;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec, WindowUDFExpr};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::call::{WindowArg, WindowCall};
use super::exec::{WindowExec, WindowSpec};
use crate::ordered::{InputOrder, Layout, Plan};

/// `plan` with every window node that the Window operator can evaluate replaced by it.
pub fn windows_on_operator(plan: Plan) -> Result<Plan> {
    plan.transform_up(|node| {
        Ok(match replacement(&node)? {
            Some(exec) => Transformed::yes(exec),
            None => Transformed::no(node),
        })
    })
    .map(|t| t.data)
}

/// The Window operator for `node`, when it is a window node it can stand in for.
fn replacement(node: &Plan) -> Result<Option<Plan>> {
    let (exprs, input) = if let Some(w) = node.downcast_ref::<BoundedWindowAggExec>() {
        (w.window_expr(), w.input())
    } else if let Some(w) = node.downcast_ref::<WindowAggExec>() {
        (w.window_expr(), w.input())
    } else {
        return Ok(None);
    };
    let Some(first) = exprs.first() else {
        return Ok(None);
    };
    let Some(partition_by) = column_names(first.partition_by()) else {
        return Ok(None);
    };
    // the order the operator requires of its input (kept by any later optimizer pass): the
    // partition keys, then the ORDER BY, which must be columns, ascending, NULLs last (as
    // DataFusion sorts partition keys)
    let mut required_order = partition_by.clone();
    for sort in first.order_by() {
        let Some(column) = sort.expr.downcast_ref::<Column>() else {
            return Ok(None);
        };
        if sort.options.descending || sort.options.nulls_first {
            return Ok(None);
        }
        required_order.push(column.name().to_string());
    }
    let mut calls = Vec::with_capacity(exprs.len());
    for expr in exprs {
        match call_of(expr.as_ref(), &partition_by)? {
            Some(call) => calls.push(call),
            None => return Ok(None),
        }
        if !in_window_order(input, expr.as_ref())? {
            return Ok(None);
        }
    }
    let spec = WindowSpec {
        layout: Layout {
            order: InputOrder::EachPartition,
            required_order,
            output_partitions: input.output_partitioning().partition_count().max(1),
        },
        partition_by,
        calls,
    };
    let Ok(exec) = WindowExec::new(spec, vec![Arc::clone(input)], false) else {
        return Ok(None);
    };
    // the same columns, by name and type (a call whose result type differs stays with
    // DataFusion)
    let ours = exec.schema();
    let theirs = node.schema();
    let same = ours.fields().len() == theirs.fields().len()
        && ours
            .fields()
            .iter()
            .zip(theirs.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if !same {
        return Ok(None);
    }
    // every order the node declares (a parent may rely on one: `run_id`'s result rises, so a
    // `GROUP BY` of it streams) holds of the operator's output too, or the node stays
    let ours = exec.properties().equivalence_properties().clone();
    for ordering in node.equivalence_properties().oeq_class().iter() {
        if !ours.ordering_satisfy(ordering.clone())? {
            return Ok(None);
        }
    }
    Ok(Some(Arc::new(exec) as Plan))
}

/// The names of `exprs` when each is a column.
fn column_names(exprs: &[Arc<dyn datafusion::physical_expr::PhysicalExpr>]) -> Option<Vec<String>> {
    exprs
        .iter()
        .map(|e| e.downcast_ref::<Column>().map(|c| c.name().to_string()))
        .collect()
}

/// `expr` as a call of the Window operator: one of ltseq's functions, over columns and
/// constants, partitioned by `partition_by`.
fn call_of(expr: &dyn WindowExpr, partition_by: &[String]) -> Result<Option<WindowCall>> {
    if column_names(expr.partition_by()).as_deref() != Some(partition_by) {
        return Ok(None);
    }
    let Some(standard) = expr.as_any().downcast_ref::<StandardWindowExpr>() else {
        return Ok(None);
    };
    let Some(udf) = standard
        .get_standard_func_expr()
        .as_any()
        .downcast_ref::<WindowUDFExpr>()
    else {
        return Ok(None);
    };
    let function = udf.fun().name().to_string();
    if ltseq_udf::window_udf(&function).is_none() {
        return Ok(None);
    }
    let mut args = Vec::with_capacity(udf.args().len());
    for arg in udf.args() {
        if let Some(column) = arg.downcast_ref::<Column>() {
            args.push(WindowArg::Column(column.name().to_string()));
        } else if let Some(literal) = arg.downcast_ref::<Literal>() {
            args.push(WindowArg::Literal(literal.value().clone()));
        } else {
            return Ok(None);
        }
    }
    Ok(Some(WindowCall {
        function,
        args,
        output: expr.name().to_string(),
    }))
}

/// Whether each partition of `input` is sorted by `expr`'s partition keys (any direction),
/// then its `ORDER BY`.
fn in_window_order(input: &Plan, expr: &dyn WindowExpr) -> Result<bool> {
    let requirement = expr
        .partition_by()
        .iter()
        .map(|e| PhysicalSortRequirement::new(Arc::clone(e), None))
        .chain(
            expr.order_by()
                .iter()
                .map(|s| PhysicalSortRequirement::new(Arc::clone(&s.expr), Some(s.options))),
        )
        .collect::<Vec<_>>();
    input
        .equivalence_properties()
        .ordering_satisfy_requirement(requirement)
}
