//! What the `GroupOrdered` operator computes: where groups start ([`Boundary`]), the
//! aggregates ([`AggCall`]), the logical node's spec ([`GroupOrderedSpec`]), and the output
//! schema.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::AggregateUDF;
use datafusion::physical_expr::aggregate::{AggregateExprBuilder, AggregateFunctionExpr};
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, PhysicalExpr, PhysicalSortExpr,
};
use serde::{Deserialize, Serialize};

use super::split::SplitPredicate;
use crate::ordered::functions::{coerce_args, unknown_function};
use crate::ordered::Functions;

pub(super) const NAME: &str = "LtseqGroupOrderedExec";

/// Where a new group starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub enum Boundary {
    /// Where any of these columns changes (NULL equal to NULL).
    Keys(Vec<String>),
    /// Where this boolean column is true (NULL and false continue the group).
    Split(String),
    /// Where this condition over the input columns and their lags is true (NULL and false
    /// continue the group); evaluated inside the operator.
    Predicate(SplitPredicate),
}

/// `function(args)` over each group, into the output column `output`; no arguments means
/// `count(*)`-style counting of rows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct AggCall {
    pub function: String,
    pub args: Vec<String>,
    pub output: String,
}

/// An aggregate function by name (DataFusion's built-in aggregates).
pub fn aggregate_function(name: &str) -> Option<Arc<AggregateUDF>> {
    let lower = name.to_ascii_lowercase();
    datafusion::functions_aggregate::all_default_aggregate_functions()
        .into_iter()
        .find(|f| f.name() == lower || f.aliases().contains(&lower))
}

pub(super) fn build_aggregate(call: &AggCall, schema: &SchemaRef) -> Result<AggregateFunctionExpr> {
    let udaf = aggregate_function(&call.function)
        .ok_or_else(|| unknown_function(NAME, "aggregate function", &call.function))?;
    let args: Vec<Arc<dyn PhysicalExpr>> = if call.args.is_empty() {
        vec![Arc::new(Literal::new(ScalarValue::Int64(Some(1))))]
    } else {
        call.args
            .iter()
            .map(|name| {
                let index = schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!(
                        "{NAME}: {}: no input column named {name:?}",
                        call.function
                    ))
                })?;
                Ok(Arc::new(Column::new(name, index)) as Arc<dyn PhysicalExpr>)
            })
            .collect::<Result<_>>()?
    };
    let (args, _) = coerce_args(udaf.as_ref(), args, schema)?;
    AggregateExprBuilder::new(udaf, args)
        .schema(Arc::clone(schema))
        .alias(call.output.clone())
        .build()
}

/// The output's properties: each partition's rows rise in the group id (unless it is NULL).
pub(super) fn ids_ordered(schema: &SchemaRef) -> EquivalenceProperties {
    let mut eq = EquivalenceProperties::new(Arc::clone(schema));
    if schema.field(0).data_type() == &DataType::Int64 {
        let id: Arc<dyn PhysicalExpr> = Arc::new(Column::new(schema.field(0).name(), 0));
        // ascending, NULLs last (as ltseq's queries order; the ids are never NULL)
        let ordering = LexOrdering::new([PhysicalSortExpr::new(
            id,
            datafusion::arrow::compute::SortOptions {
                descending: false,
                nulls_first: false,
            },
        )]);
        if let Some(ordering) = ordering {
            eq.add_orderings([ordering]);
        }
    }
    eq
}

/// The output schema: the group id, then one field per aggregate.
pub fn group_ordered_schema(input: &SchemaRef, aggs: &[AggCall]) -> Result<SchemaRef> {
    let mut fields: Vec<FieldRef> =
        vec![Arc::new(Field::new("__group_id__", DataType::Int64, false))];
    for call in aggs {
        let expr = build_aggregate(call, input)?;
        let field = expr.field();
        if fields.iter().any(|f| f.name() == field.name()) {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: duplicate output column {:?}",
                field.name()
            )));
        }
        fields.push(Arc::new(field.as_ref().clone().with_nullable(true)));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// What a logical `GroupOrdered` node computes, and the order its input must have.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct GroupOrderedSpec {
    pub partition_by: Vec<String>,
    pub boundary: Boundary,
    pub aggs: Vec<AggCall>,
    /// The input's required order: these columns, ascending, NULLs last.
    pub input_order: Vec<String>,
}

impl Boundary {
    /// The input columns the boundary reads (a predicate's, compiled with `functions`).
    pub fn columns(&self, input: &Schema, functions: &Functions) -> Result<Vec<String>> {
        Ok(match self {
            Boundary::Keys(k) => k.clone(),
            Boundary::Split(c) => vec![c.clone()],
            Boundary::Predicate(p) => p.compile(input, functions)?.1,
        })
    }

    /// How `EXPLAIN` shows it.
    pub fn summary(&self) -> String {
        match self {
            Boundary::Keys(k) => format!("keys=[{}]", k.join(", ")),
            Boundary::Split(c) => format!("split={c}"),
            Boundary::Predicate(p) => format!("split=[{}]", p.sql),
        }
    }

    /// How many rows before a row decide whether it starts a group.
    pub fn lookbehind(&self) -> usize {
        match self {
            Boundary::Predicate(p) => p.max_offset(),
            _ => 1,
        }
    }
}

/// `count() AS n, sum(v) AS total`, for `EXPLAIN`.
pub(super) fn aggregates_summary(aggs: &[AggCall]) -> String {
    aggs.iter()
        .map(|a| format!("{}({}) AS {}", a.function, a.args.join(", "), a.output))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The input columns the operator reads: the partition columns, the boundary's and the
/// aggregates' arguments.
pub(super) fn read_columns(
    partition_by: &[String],
    boundary: &Boundary,
    aggs: &[AggCall],
    input: &Schema,
    functions: &Functions,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = partition_by.to_vec();
    names.extend(boundary.columns(input, functions)?);
    for a in aggs {
        names.extend(a.args.iter().cloned());
    }
    names.sort();
    names.dedup();
    Ok(names)
}

impl GroupOrderedSpec {
    /// The input columns the node reads.
    pub fn columns(&self, input: &Schema, functions: &Functions) -> Result<Vec<String>> {
        let mut names = read_columns(
            &self.partition_by,
            &self.boundary,
            &self.aggs,
            input,
            functions,
        )?;
        names.extend(self.input_order.iter().cloned());
        names.sort();
        names.dedup();
        Ok(names)
    }
}
