//! The logical `GroupOrdered` node (`LtseqGroupOrdered` in `EXPLAIN`): one row per group of
//! consecutive rows of its input, planned by [`crate::LtseqExtensionPlanner`] into
//! [`GroupOrderedExec`] with a visible input whose order DataFusion provides.
//!
//! ltseq's query planner puts it into plans in place of scans of the DSL's
//! `GroupOrderedTableProvider` (stored order: the input's ordinal is the required order) and of
//! the Rust SQL table functions `ltseq_group_ordered` / `ltseq_group_split` (the partition
//! columns, then the order columns).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use datafusion::physical_plan::ExecutionPlan;
use serde::{Deserialize, Serialize};

use crate::group_ordered::{group_ordered_schema, AggCall, Boundary, GroupOrderedExec};

pub(crate) const NODE_NAME: &str = "LtseqGroupOrdered";

/// What a `GroupOrdered` node computes, and the order its input must have.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct GroupOrderedSpec {
    pub partition_by: Vec<String>,
    pub boundary: Boundary,
    pub aggs: Vec<AggCall>,
    /// The input's required order: these columns, ascending, NULLs last.
    pub input_order: Vec<String>,
}

impl GroupOrderedSpec {
    /// The input columns the node reads.
    pub fn columns(&self, input: &datafusion::arrow::datatypes::Schema) -> Result<Vec<String>> {
        let mut names: Vec<String> = self.partition_by.clone();
        match &self.boundary {
            Boundary::Keys(k) => names.extend(k.iter().cloned()),
            Boundary::Split(c) => names.push(c.clone()),
            Boundary::Predicate(p) => names.extend(p.compile(input)?.1),
        }
        for a in &self.aggs {
            names.extend(a.args.iter().cloned());
        }
        names.extend(self.input_order.iter().cloned());
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The operator over `input` (a visible child).
    pub fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Result<GroupOrderedExec> {
        Ok(GroupOrderedExec::try_new(
            input,
            None,
            self.partition_by.clone(),
            self.boundary.clone(),
            self.aggs.clone(),
            false,
        )?
        .with_input_order(self.input_order.clone()))
    }

    fn summary(&self) -> String {
        let boundary = match &self.boundary {
            Boundary::Keys(k) => format!("keys=[{}]", k.join(", ")),
            Boundary::Split(c) => format!("split={c}"),
            Boundary::Predicate(p) => format!("split=[{}]", p.sql),
        };
        let aggs: Vec<String> = self
            .aggs
            .iter()
            .map(|a| format!("{}({}) AS {}", a.function, a.args.join(", "), a.output))
            .collect();
        format!(
            "partition_by=[{}], {boundary}, aggregates=[{}], order=[{}]",
            self.partition_by.join(", "),
            aggs.join(", "),
            self.input_order.join(", ")
        )
    }
}

/// The logical `GroupOrdered` node: output `__group_id__` (1-based), then the aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOrderedNode {
    input: LogicalPlan,
    spec: GroupOrderedSpec,
    schema: DFSchemaRef,
}

impl GroupOrderedNode {
    pub fn try_new(input: LogicalPlan, spec: GroupOrderedSpec) -> Result<Self> {
        let arrow = Arc::new(input.schema().as_arrow().clone());
        for name in spec.columns(&arrow)? {
            arrow.index_of(&name).map_err(|_| {
                DataFusionError::Plan(format!("{NODE_NAME}: the input has no column {name:?}"))
            })?;
        }
        let out = group_ordered_schema(&arrow, &spec.aggs)?;
        let schema = Arc::new(DFSchema::try_from(out.as_ref().clone())?);
        Ok(Self {
            input,
            spec,
            schema,
        })
    }

    pub fn spec(&self) -> &GroupOrderedSpec {
        &self.spec
    }
}

impl Hash for GroupOrderedNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.spec.hash(state);
    }
}

impl PartialOrd for GroupOrderedNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.input.partial_cmp(&other.input) {
            Some(Ordering::Equal) => self.spec.partial_cmp(&other.spec),
            o => o,
        }
    }
}

impl UserDefinedLogicalNodeCore for GroupOrderedNode {
    fn name(&self) -> &str {
        NODE_NAME
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{NODE_NAME}: {}", self.spec.summary())
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [input] = <[LogicalPlan; 1]>::try_from(inputs)
            .map_err(|_| DataFusionError::Internal(format!("{NODE_NAME} takes one input")))?;
        Self::try_new(input, self.spec.clone())
    }

    fn necessary_children_exprs(&self, _output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let schema = self.input.schema();
        let names = self.spec.columns(schema.as_arrow()).ok()?;
        let mut indices = names
            .iter()
            .map(|n| schema.index_of_column_by_name(None, n))
            .collect::<Option<Vec<usize>>>()?;
        indices.sort_unstable();
        Some(vec![indices])
    }
}
