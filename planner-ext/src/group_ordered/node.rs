//! The logical `GroupOrdered` node (`LtseqGroupOrdered` in `EXPLAIN`): one row per group of
//! consecutive rows of its input, planned into [`GroupOrderedExec`] with a visible input whose
//! order DataFusion provides. ltseq's query planner puts it in place of scans of the Rust SQL
//! table functions and of the DSL's table over a stored-order input.

use std::sync::Arc;

use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;

use super::exec::{GroupOrderedExec, GroupOrderedExecSpec};
use super::spec::{aggregates_summary, group_ordered_schema, Boundary, GroupOrderedSpec};
use crate::ordered::{Functions, Layout, NodeSpec, OrderedNode};

/// The logical `GroupOrdered` node: output `__group_id__` (1-based), then the aggregates.
pub type GroupOrderedNode = OrderedNode<GroupOrderedSpec>;

impl OrderedNode<GroupOrderedSpec> {
    pub fn try_new(input: LogicalPlan, spec: GroupOrderedSpec) -> Result<Self> {
        Self::new(spec, vec![input])
    }
}

impl GroupOrderedSpec {
    /// The operator over `input` (a visible child).
    pub fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Result<GroupOrderedExec> {
        self.plan_with(input, &Functions::builtin())
    }

    /// The operator over `input`, its predicate compiled with `functions`.
    pub fn plan_with(
        &self,
        input: Arc<dyn ExecutionPlan>,
        functions: &Functions,
    ) -> Result<GroupOrderedExec> {
        let spec = GroupOrderedExecSpec {
            layout: Layout::stream(None, self.input_order.clone()),
            partition_by: self.partition_by.clone(),
            boundary: self.boundary.clone(),
            aggs: self.aggs.clone(),
            parallel_ids: false,
        };
        GroupOrderedExec::with_functions(spec, vec![input], false, functions)
    }
}

impl NodeSpec for GroupOrderedSpec {
    const NAME: &'static str = "LtseqGroupOrdered";
    const INPUTS: usize = 1;

    fn schema(&self, inputs: &[LogicalPlan]) -> Result<DFSchemaRef> {
        let arrow = Arc::new(inputs[0].schema().as_arrow().clone());
        // The predicate's columns are checked when it is compiled (with the planning session's
        // functions); the others here.
        let mut names = self.partition_by.clone();
        names.extend(self.aggs.iter().flat_map(|a| a.args.iter().cloned()));
        names.extend(self.input_order.iter().cloned());
        match &self.boundary {
            Boundary::Keys(k) => names.extend(k.iter().cloned()),
            Boundary::Split(c) => names.push(c.clone()),
            Boundary::Predicate(_) => {}
        }
        for name in names {
            arrow.index_of(&name).map_err(|_| {
                DataFusionError::Plan(format!("{}: the input has no column {name:?}", Self::NAME))
            })?;
        }
        let out = group_ordered_schema(&arrow, &self.aggs)?;
        Ok(Arc::new(DFSchema::try_from(out.as_ref().clone())?))
    }

    fn summary(&self) -> String {
        format!(
            "partition_by=[{}], {}, aggregates=[{}], order=[{}]",
            self.partition_by.join(", "),
            self.boundary.summary(),
            aggregates_summary(&self.aggs),
            self.input_order.join(", ")
        )
    }

    fn necessary_columns(
        &self,
        inputs: &[LogicalPlan],
        _output_columns: &[usize],
    ) -> Option<Vec<Vec<usize>>> {
        // A predicate's columns are known once it compiles (here with the built-in functions;
        // when it needs the session's, every column is kept).
        let schema = inputs[0].schema();
        let names = self
            .columns(schema.as_arrow(), &Functions::builtin())
            .ok()?;
        let mut indices = names
            .iter()
            .map(|n| schema.index_of_column_by_name(None, n))
            .collect::<Option<Vec<usize>>>()?;
        indices.sort_unstable();
        Some(vec![indices])
    }

    fn plan(
        &self,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        functions: &Functions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[Arc<dyn ExecutionPlan>; 1]>::try_from(inputs)
            .map_err(|_| DataFusionError::Internal(format!("{} takes one input", Self::NAME)))?;
        Ok(Arc::new(self.plan_with(input, functions)?))
    }
}
