//! [`HiddenPlanExec`]: a plan under a node that hides it. Plans cross the FFI as DataFusion's
//! protobuf, which writes every node it knows by value and reads it back on the other side:
//! memory scans are copied batch by batch, and the reading side rebuilds each node's
//! properties from its children, whose orderings, foreign to it, it cannot match (a host
//! rebuilding a sorted window above an ltseq node fails an internal assertion). Under this
//! node, which has no children, ltseq's codec hands the whole plan over in-process, as it is.
//! Its output (rows, partitions, declared ordering) is its input's.

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

/// Passes its hidden input's rows, partitions and declared order through.
#[derive(Debug)]
pub struct HiddenPlanExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
    /// `HiddenPlanExec:` and the plan, indented (a host shows a foreign node by its name).
    name: String,
}

/// The start of the node's name (a plan's order is read from it by name, as from a
/// `DataSourceExec`).
pub const HIDDEN_PLAN: &str = "HiddenPlanExec";

impl HiddenPlanExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let properties = Arc::clone(input.properties());
        let plan = datafusion::physical_plan::displayable(input.as_ref())
            .indent(false)
            .to_string();
        let name = format!("{HIDDEN_PLAN}:\n{}", plan.trim_end());
        Self {
            input,
            properties,
            name,
        }
    }
}

impl DisplayAs for HiddenPlanExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl ExecutionPlan for HiddenPlanExec {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    /// None: the scan is hidden (a child would be written by value).
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !children.is_empty() {
            return Err(DataFusionError::Internal(format!(
                "{HIDDEN_PLAN} has no children"
            )));
        }
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}
