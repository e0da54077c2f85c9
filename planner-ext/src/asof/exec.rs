//! The AsOf kernel. Output partition `p` is left partition `p`, joined, in the same order: on
//! the first poll of any partition the right side is read once (the other partitions wait)
//! and indexed; then each left batch gets its right rows by bisection and `take` gathers the
//! fetched columns.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::{StreamExt, TryStreamExt};

use super::index::{build_index, RightIndex};
use super::spec::{AsofSpec, Resolved, NAME};
use crate::ordered::build_side::SharedBuild;
use crate::ordered::input::input_context;
use crate::ordered::order::{order_of, Order};
use crate::ordered::{Batches, Functions, InputNeeds, Kernel, OrderedExec, Plan};

/// The AsOf kernel (inputs: left, right).
#[derive(Debug)]
pub struct Asof {
    spec: AsofSpec,
    resolved: Resolved,
    left_on: usize,
    left_by: Vec<usize>,
    /// The right side's index, shared by the partitions of one execution.
    index: Arc<SharedBuild<RightIndex>>,
}

/// The physical as-of join (`LtseqAsofJoinExec`).
pub type AsofExec = OrderedExec<Asof>;

impl OrderedExec<Asof> {
    pub fn try_new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        spec: AsofSpec,
        hide_inputs: bool,
    ) -> Result<Self> {
        Self::new(spec, vec![left, right], hide_inputs)
    }
}

impl Kernel for Asof {
    const NAME: &'static str = NAME;
    type Spec = AsofSpec;

    fn build(spec: AsofSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let [left, right] = inputs else {
            return Err(DataFusionError::Internal(format!(
                "{NAME} takes two inputs (left, right)"
            )));
        };
        let left_schema = left.schema();
        let resolved = spec.resolve(&left_schema, &right.schema())?;
        let left_on = left_schema.index_of(&spec.left_on)?;
        let left_by = spec
            .left_by
            .iter()
            .map(|k| Ok(left_schema.index_of(k)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            spec,
            resolved,
            left_on,
            left_by,
            index: Arc::default(),
        })
    }

    fn spec(&self) -> &AsofSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        self.spec.summary()
    }

    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties> {
        // The left's columns keep their positions, and every left row stays once: its
        // orderings, equivalences and constants hold for the output too.
        let left = &inputs[0];
        let left_eq = left.equivalence_properties();
        let mut eq = EquivalenceProperties::new(Arc::clone(&self.resolved.schema));
        eq.add_equivalence_group(left_eq.eq_group().clone())?;
        eq.add_constants(left_eq.constants())?;
        eq.add_orderings(
            left_eq
                .oeq_class()
                .iter()
                .map(|o| o.iter().cloned().collect::<Vec<_>>()),
        );
        Ok(PlanProperties::new(
            eq,
            left.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, _inputs: &[Plan]) -> Vec<InputNeeds> {
        vec![InputNeeds::any(None, true), InputNeeds::any(None, false)]
    }

    fn order(&self, inputs: &[Plan]) -> Option<Order> {
        // The left's rows, partition by partition, in their order.
        order_of(&inputs[0])?.within(&self.resolved.schema)
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let ctx = input_context(&ctx);
        let left = inputs[0].execute(partition, Arc::clone(&ctx))?;
        let cell = Arc::clone(&self.index);
        let right = Arc::clone(&inputs[1]);
        let spec = self.spec.clone();
        let resolved = self.resolved.clone();
        let schema = Arc::clone(&self.resolved.schema);
        let (left_on, left_by) = (self.left_on, self.left_by.clone());
        let joined = async move {
            let index = cell
                .get(NAME, || {
                    build_index(right, spec.clone(), resolved.clone(), ctx)
                })
                .await?;
            Ok::<_, DataFusionError>(left.map(move |batch| {
                batch.and_then(|b| index.join(&b, &resolved, &spec, left_on, &left_by, &schema))
            }))
        };
        let stream = futures::stream::once(joined).try_flatten();
        let schema: SchemaRef = Arc::clone(&self.resolved.schema);
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
