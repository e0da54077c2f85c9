//! Window calls: which functions the Window operator evaluates, a call resolved against its
//! input (arguments coerced as the SQL planner coerces them), and what the DSL asks about a
//! call before it runs ([`describe_call`]: the result type, or the function's own error).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, WindowUDF};
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::PhysicalExpr;
use serde::{Deserialize, Serialize};

use super::exec::NAME;
use crate::ordered::functions::{coerce_args, unknown_function};

/// The window functions the operator evaluates: ltseq's, and DataFusion's that need neither a
/// window frame nor peer ranks.
pub fn window_function(name: &str) -> Option<Arc<WindowUDF>> {
    if let Some(f) = ltseq_udf::window_udf(name) {
        return Some(f);
    }
    let lower = name.to_ascii_lowercase();
    [
        datafusion::functions_window::lead_lag::lag_udwf(),
        datafusion::functions_window::lead_lag::lead_udwf(),
        datafusion::functions_window::row_number::row_number_udwf(),
        datafusion::functions_window::ntile::ntile_udwf(),
    ]
    .into_iter()
    .find(|f| f.name() == lower || f.aliases().contains(&lower))
}

/// Any window function a SQL query can call: the operator's, then DataFusion's others.
fn any_window_function(name: &str) -> Option<Arc<WindowUDF>> {
    window_function(name).or_else(|| {
        let lower = name.to_ascii_lowercase();
        datafusion::functions_window::all_default_window_functions()
            .into_iter()
            .find(|f| f.name() == lower || f.aliases().contains(&lower))
    })
}

/// One argument of a window call: an input column or a constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowArg {
    Column(String),
    Literal(#[serde(with = "crate::ordered::scalar_serde")] ScalarValue),
}

/// `function(args)` computed into the output column `output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowCall {
    pub function: String,
    pub args: Vec<WindowArg>,
    pub output: String,
}

/// Argument expressions, their fields, and which are constants, coerced to the types `udwf`
/// takes (a constant is cast once, here).
struct Coerced {
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    fields: Vec<FieldRef>,
    literal: Vec<Option<ScalarValue>>,
}

fn coerce(
    udwf: &WindowUDF,
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    literal: Vec<Option<ScalarValue>>,
    schema: &SchemaRef,
) -> Result<Coerced> {
    let (exprs, fields) = coerce_args(udwf, exprs, schema)?;
    let literal = literal
        .into_iter()
        .zip(&fields)
        .map(|(value, field)| value.map(|v| v.cast_to(field.data_type())).transpose())
        .collect::<Result<Vec<_>>>()?;
    Ok(Coerced {
        exprs,
        fields,
        literal,
    })
}

fn evaluator(udwf: &WindowUDF, c: &Coerced) -> Result<Box<dyn PartitionEvaluator>> {
    udwf.partition_evaluator_factory(PartitionEvaluatorArgs::new(
        &c.exprs, &c.fields, false, false,
    ))
}

/// A call resolved against the input schema.
#[derive(Debug)]
pub(super) struct PreparedCall {
    pub(super) udwf: Arc<WindowUDF>,
    /// The arguments, cast to the types the function coerces them to.
    pub(super) exprs: Vec<Arc<dyn PhysicalExpr>>,
    pub(super) fields: Vec<FieldRef>,
    /// Which arguments are constants (evaluated once, not per row).
    pub(super) literal: Vec<Option<ScalarValue>>,
    pub(super) output: FieldRef,
    pub(super) text: String,
}

impl PreparedCall {
    pub(super) fn try_new(call: &WindowCall, schema: &SchemaRef) -> Result<Self> {
        let udwf = window_function(&call.function).ok_or_else(|| {
            unknown_function(NAME, "or unsupported window function", &call.function)
        })?;
        let mut exprs: Vec<Arc<dyn PhysicalExpr>> = Vec::with_capacity(call.args.len());
        let mut literal = Vec::with_capacity(call.args.len());
        let mut parts = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            match arg {
                WindowArg::Column(name) => {
                    let index = schema.index_of(name).map_err(|_| {
                        DataFusionError::Plan(format!(
                            "{NAME}: {}: no input column named {name:?}",
                            call.function
                        ))
                    })?;
                    exprs.push(Arc::new(Column::new(name, index)));
                    literal.push(None);
                    parts.push(name.clone());
                }
                WindowArg::Literal(value) => {
                    exprs.push(Arc::new(Literal::new(value.clone())));
                    literal.push(Some(value.clone()));
                    parts.push(value.to_string());
                }
            }
        }
        let coerced = coerce(&udwf, exprs, literal, schema)?;
        // the result's field by the call's own display (an output name may be a SQL window's,
        // which shows a frame the rewritten call does not have: `sum(x) ... ROWS BETWEEN ..`)
        let display = format!("{}({})", udwf.name(), parts.join(", "));
        let output = udwf.field(WindowUDFFieldArgs::new(&coerced.fields, &display))?;
        let output = Arc::new(output.as_ref().clone().with_name(&call.output));
        let evaluator = evaluator(&udwf, &coerced)?;
        if evaluator.uses_window_frame() || evaluator.include_rank() {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: {} needs a window frame or peer ranks, which this operator does not provide",
                udwf.name()
            )));
        }
        Ok(Self {
            text: format!("{}({}) AS {}", udwf.name(), parts.join(", "), call.output),
            udwf,
            exprs: coerced.exprs,
            fields: coerced.fields,
            literal: coerced.literal,
            output,
        })
    }

    /// The function's evaluator over many partitions at once, when it has one.
    pub(super) fn segmented(&self) -> Result<Option<Box<dyn ltseq_udf::SegmentedEvaluator>>> {
        ltseq_udf::segmented_evaluator(
            &self.udwf,
            PartitionEvaluatorArgs::new(&self.exprs, &self.fields, false, false),
        )
    }

    pub(super) fn evaluator(&self) -> Result<Box<dyn PartitionEvaluator>> {
        self.udwf
            .partition_evaluator_factory(PartitionEvaluatorArgs::new(
                &self.exprs,
                &self.fields,
                false,
                false,
            ))
    }
}

/// What a window call is, as far as the DSL needs to know before running it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallInfo {
    /// The result type.
    pub output: DataType,
    /// Whether the Window operator evaluates the function (else it runs as SQL).
    pub operator: bool,
}

/// Why a window call is wrong: its arguments' types, or their values (a window size of 0), or
/// an unknown function. The message is the function's own.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    Type(String),
    Value(String),
    Unknown(String),
}

/// One argument of a call the DSL asks about.
#[derive(Debug, Clone, PartialEq)]
pub enum CallArg {
    /// A column or an expression of this type.
    Value(DataType),
    /// A constant (checked as the function checks its constants).
    Constant(ScalarValue),
    /// A constant of this type whose value the caller does not pass (a date, a decimal): its
    /// type is checked, its value is left to the query.
    Opaque(DataType),
}

/// The function's own words in a DataFusion error: without the wrapping of argument coercion
/// ("Function 'f' user-defined coercion failed with: ...") and the error-kind prefixes.
fn own_message(text: &str) -> String {
    let mut text = text.rsplit("coercion failed with: ").next().unwrap_or(text);
    while let Some(rest) = ["Error during planning: ", "Execution error: "]
        .iter()
        .find_map(|p| text.strip_prefix(p))
    {
        text = rest;
    }
    text.to_string()
}

/// The result type of `function(args)`, checked exactly as a query's planning and evaluation
/// would check it: the function's own argument coercion, then its evaluator's checks of the
/// constants (skipped when a constant's value is not given: the query checks it then, and such
/// a call is not the Window operator's).
pub fn describe_call(function: &str, args: &[CallArg]) -> std::result::Result<CallInfo, CallError> {
    let message = |e: DataFusionError| own_message(&e.strip_backtrace());
    let udwf = any_window_function(function)
        .ok_or_else(|| CallError::Unknown(format!("unknown window function '{function}'")))?;
    let types: Vec<DataType> = args
        .iter()
        .map(|a| match a {
            CallArg::Value(t) | CallArg::Opaque(t) => t.clone(),
            CallArg::Constant(v) => v.data_type(),
        })
        .collect();
    let fields: Vec<Field> = types
        .iter()
        .enumerate()
        .map(|(i, t)| Field::new(format!("a{i}"), t.clone(), true))
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut exprs: Vec<Arc<dyn PhysicalExpr>> = Vec::with_capacity(args.len());
    let mut literal = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let value = match arg {
            CallArg::Value(_) => None,
            CallArg::Constant(v) => Some(v.clone()),
            CallArg::Opaque(t) => {
                Some(ScalarValue::try_from(t).map_err(|e| CallError::Type(message(e)))?)
            }
        };
        match value {
            Some(v) => {
                exprs.push(Arc::new(Literal::new(v.clone())));
                literal.push(Some(v));
            }
            None => {
                exprs.push(Arc::new(Column::new(&format!("a{i}"), i)));
                literal.push(None);
            }
        }
    }
    let coerced =
        coerce(&udwf, exprs, literal, &schema).map_err(|e| CallError::Type(message(e)))?;
    let output = udwf
        .field(WindowUDFFieldArgs::new(&coerced.fields, "out"))
        .map_err(|e| CallError::Type(message(e)))?;
    if args.iter().any(|a| matches!(a, CallArg::Opaque(_))) {
        return Ok(CallInfo {
            output: output.data_type().clone(),
            operator: false,
        });
    }
    let evaluator = evaluator(&udwf, &coerced).map_err(|e| CallError::Value(message(e)))?;
    let operator = window_function(function).is_some()
        && !evaluator.uses_window_frame()
        && !evaluator.include_rank();
    Ok(CallInfo {
        output: output.data_type().clone(),
        operator,
    })
}
