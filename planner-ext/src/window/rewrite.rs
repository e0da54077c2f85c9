//! SQL windows on the Window operator: a physical plan's `BoundedWindowAggExec` or
//! `WindowAggExec` whose every call the operator can compute becomes a Window operator over the
//! same input, which evaluates the calls vectorized, partition after partition of each input
//! partition, instead of DataFusion's operator calling the functions one `PARTITION BY`
//! partition at a time. Applied by ltseq's query planner to the plans it makes (a Rust session
//! with it, or a host with `register(ctx, planner=True)`).
//!
//! The calls it takes: ltseq's window functions (which reject frames, `DISTINCT` and `IGNORE
//! NULLS` when planned); DataFusion's `lag`, `lead`, `row_number` and `ntile` (which ignore the
//! frame); `sum`, `avg`, `min`, `max`, `count` of a column over `ROWS BETWEEN n PRECEDING AND
//! CURRENT ROW` (as `rolling_*`); `sum` and `count` over `ROWS UNBOUNDED PRECEDING` (as
//! `cum_*`). Not `first_value`/`last_value`, ranks, `RANGE` or `GROUPS` frames (their peers
//! depend on ties), frames ending after the current row, nor a running `min`/`max` (DataFusion
//! declares its result ordered with NULLs last, though NULLs lead it; the operator does not
//! make that claim, so the node stays): those stay with DataFusion.
//!
//! It applies only where the values cannot change: every call is over columns and constants
//! only, all with the same `PARTITION BY` columns; and each input partition is proven sorted by
//! the partition keys, then the call's `ORDER BY` (the order DataFusion's window operator
//! needs), so every `PARTITION BY` partition is contiguous and in window order. The output
//! columns are the window node's, by name and type, and the orders it declares hold of the
//! operator's output (which declares its input's); otherwise the node stays. Float sums and
//! means over a sliding frame may differ from DataFusion's in the last bits (DataFusion adds
//! and subtracts each value as the frame slides; once a NaN has entered DataFusion's sliding
//! sum it stays NaN after leaving the frame, where ltseq's result is the frame's).

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{WindowFrame, WindowFrameBound, WindowFrameUnits};
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::window::{
    PlainAggregateWindowExpr, SlidingAggregateWindowExpr, StandardWindowExpr, WindowExpr,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::PhysicalSortRequirement;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec, WindowUDFExpr};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::call::{window_function, WindowArg, WindowCall};
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
fn column_names(exprs: &[Arc<dyn PhysicalExpr>]) -> Option<Vec<String>> {
    exprs
        .iter()
        .map(|e| e.downcast_ref::<Column>().map(|c| c.name().to_string()))
        .collect()
}

/// `expr` as a call of the Window operator, partitioned by `partition_by`: a window function
/// the operator evaluates ([`standard_call`]), or an aggregate over a row frame that one of
/// ltseq's functions computes ([`aggregate_call`]).
fn call_of(expr: &dyn WindowExpr, partition_by: &[String]) -> Result<Option<WindowCall>> {
    if column_names(expr.partition_by()).as_deref() != Some(partition_by) {
        return Ok(None);
    }
    let call = if let Some(standard) = expr.as_any().downcast_ref::<StandardWindowExpr>() {
        standard_call(standard)
    } else if let Some(plain) = expr.as_any().downcast_ref::<PlainAggregateWindowExpr>() {
        aggregate_call(plain.get_aggregate_expr(), expr.get_window_frame())
    } else if let Some(sliding) = expr.as_any().downcast_ref::<SlidingAggregateWindowExpr>() {
        aggregate_call(sliding.get_aggregate_expr(), expr.get_window_frame())
    } else {
        None
    };
    Ok(call.map(|(function, args)| WindowCall {
        function,
        args,
        output: expr.name().to_string(),
    }))
}

/// A window function's call: one of ltseq's functions, or DataFusion's `lag`, `lead`,
/// `row_number` or `ntile` (which need no frame), over columns and constants. Not a call
/// with `IGNORE NULLS`, nor one DataFusion reversed to read its input backwards (the
/// operator reads forwards); neither shows but in the expression's fields.
fn standard_call(expr: &StandardWindowExpr) -> Option<(String, Vec<WindowArg>)> {
    let udf = expr
        .get_standard_func_expr()
        .as_any()
        .downcast_ref::<WindowUDFExpr>()?;
    let function = udf.fun().name().to_string();
    window_function(&function)?;
    let fields = format!("{udf:?}");
    if fields.contains("ignore_nulls: true") || fields.contains("is_reversed: true") {
        return None;
    }
    Some((function, arguments(udf.args())?))
}

/// An aggregate over a row frame ending at the current row, as the ltseq function that
/// computes it: `ROWS BETWEEN n PRECEDING AND CURRENT ROW` as `rolling_*(x, n + 1)` (`sum`,
/// `avg`, `min`, `max`, `count`: each skips NULLs, and is NULL where the frame has no value but
/// `count`'s 0, as with `min_periods` 1), `ROWS UNBOUNDED PRECEDING` as `cum_*(x)` (`sum`,
/// `min`, `max`, `count`; whether the node's declared orders allow it is checked after). Not `DISTINCT`, `IGNORE NULLS`, an aggregate's own `ORDER BY`, nor
/// a frame DataFusion reversed.
fn aggregate_call(
    aggregate: &AggregateFunctionExpr,
    frame: &WindowFrame,
) -> Option<(String, Vec<WindowArg>)> {
    if aggregate.is_distinct()
        || aggregate.ignore_nulls()
        || aggregate.is_reversed()
        || !aggregate.order_bys().is_empty()
        || frame.units != WindowFrameUnits::Rows
        || frame.end_bound != WindowFrameBound::CurrentRow
    {
        return None;
    }
    let name = match aggregate.fun().name().to_ascii_lowercase().as_str() {
        "mean" => "avg".to_string(),
        other => other.to_string(),
    };
    if !matches!(name.as_str(), "sum" | "avg" | "min" | "max" | "count") {
        return None;
    }
    let mut args = arguments(&aggregate.expressions())?;
    if args.len() != 1 {
        return None;
    }
    match &frame.start_bound {
        WindowFrameBound::Preceding(ScalarValue::UInt64(None)) if name != "avg" => {
            Some((format!("cum_{name}"), args))
        }
        WindowFrameBound::Preceding(ScalarValue::UInt64(Some(n))) => {
            let rows = n.checked_add(1).filter(|&w| w <= i64::MAX as u64)?;
            args.push(WindowArg::Literal(ScalarValue::Int64(Some(rows as i64))));
            args.push(WindowArg::Literal(ScalarValue::Int64(Some(1))));
            Some((format!("rolling_{name}"), args))
        }
        _ => None,
    }
}

/// The arguments of a call when each is a column or a constant.
fn arguments(exprs: &[Arc<dyn PhysicalExpr>]) -> Option<Vec<WindowArg>> {
    exprs
        .iter()
        .map(|arg| {
            if let Some(column) = arg.downcast_ref::<Column>() {
                Some(WindowArg::Column(column.name().to_string()))
            } else {
                arg.downcast_ref::<Literal>()
                    .map(|literal| WindowArg::Literal(literal.value().clone()))
            }
        })
        .collect()
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
