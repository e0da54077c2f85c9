//! [`OrderedNode`]: the one logical extension node of every ltseq operator, over a
//! [`NodeSpec`] (what the node computes). ltseq's extension planner plans it into the
//! operator's [`super::OrderedExec`] with visible inputs; both codecs write the spec as JSON.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::DFSchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use datafusion::physical_plan::ExecutionPlan;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::functions::Functions;

/// What a logical ltseq node computes.
pub trait NodeSpec:
    Clone
    + fmt::Debug
    + PartialEq
    + Eq
    + Hash
    + PartialOrd
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The node's name in plans (`LtseqSequence`, ...).
    const NAME: &'static str;
    /// How many inputs the node takes.
    const INPUTS: usize;

    /// The output schema over `inputs` (checking the spec against them).
    fn schema(&self, inputs: &[LogicalPlan]) -> Result<DFSchemaRef>;

    /// A one-line description, for `EXPLAIN`.
    fn summary(&self) -> String;

    /// The input columns needed for `output_columns` (see
    /// `UserDefinedLogicalNodeCore::necessary_children_exprs`); `None`: all of them.
    fn necessary_columns(
        &self,
        _inputs: &[LogicalPlan],
        _output_columns: &[usize],
    ) -> Option<Vec<Vec<usize>>> {
        None
    }

    /// The physical operator over the planned (visible) inputs.
    fn plan(
        &self,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        functions: &Functions,
    ) -> Result<Arc<dyn ExecutionPlan>>;
}

/// A logical ltseq node: a spec over its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedNode<S: NodeSpec> {
    spec: S,
    inputs: Vec<LogicalPlan>,
    schema: DFSchemaRef,
}

impl<S: NodeSpec> OrderedNode<S> {
    pub fn new(spec: S, inputs: Vec<LogicalPlan>) -> Result<Self> {
        if inputs.len() != S::INPUTS {
            return Err(DataFusionError::Internal(format!(
                "{} takes {} inputs, got {}",
                S::NAME,
                S::INPUTS,
                inputs.len()
            )));
        }
        let schema = spec.schema(&inputs)?;
        Ok(Self {
            spec,
            inputs,
            schema,
        })
    }

    pub fn spec(&self) -> &S {
        &self.spec
    }

    pub fn input_plans(&self) -> &[LogicalPlan] {
        &self.inputs
    }
}

impl<S: NodeSpec> Hash for OrderedNode<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inputs.hash(state);
        self.spec.hash(state);
    }
}

impl<S: NodeSpec> PartialOrd for OrderedNode<S> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.inputs.partial_cmp(&other.inputs) {
            Some(Ordering::Equal) => self.spec.partial_cmp(&other.spec),
            other => other,
        }
    }
}

impl<S: NodeSpec> UserDefinedLogicalNodeCore for OrderedNode<S> {
    fn name(&self) -> &str {
        S::NAME
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        self.inputs.iter().collect()
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", S::NAME, self.spec.summary())
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        Self::new(self.spec.clone(), inputs)
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        self.spec.necessary_columns(&self.inputs, output_columns)
    }

    fn supports_limit_pushdown(&self) -> bool {
        false
    }
}
