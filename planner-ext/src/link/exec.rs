//! The Link kernel. Output partition `p` is source partition `p`, linked, in the same order:
//! on the first poll of any partition the target is read once (the other partitions wait on
//! an async lock) and indexed; then each source batch gets its target positions and `take`
//! gathers the fetched columns.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::{StreamExt, TryStreamExt};

use super::index::{build_index, TargetIndex};
use super::spec::{LinkSpec, NAME};
use crate::ordered::build_side::SharedBuild;
use crate::ordered::input::input_context;
use crate::ordered::order::{order_of, Order};
use crate::ordered::{Batches, Functions, InputNeeds, Kernel, OrderedExec, Plan};

/// The Link kernel (inputs: source, target).
#[derive(Debug)]
pub struct Link {
    spec: LinkSpec,
    key_types: Vec<DataType>,
    key_columns: Vec<usize>,
    schema: SchemaRef,
    /// The target index, shared by the partitions of one execution.
    index: Arc<SharedBuild<TargetIndex>>,
}

/// The physical `Link` operator (`LtseqLinkExec`).
pub type LinkExec = OrderedExec<Link>;

impl OrderedExec<Link> {
    pub fn try_new(
        source: Arc<dyn ExecutionPlan>,
        target: Arc<dyn ExecutionPlan>,
        spec: LinkSpec,
        hide_inputs: bool,
    ) -> Result<Self> {
        Self::new(spec, vec![source, target], hide_inputs)
    }

    pub fn source(&self) -> &Arc<dyn ExecutionPlan> {
        &self.inputs()[0]
    }

    pub fn target(&self) -> &Arc<dyn ExecutionPlan> {
        &self.inputs()[1]
    }
}

impl Kernel for Link {
    const NAME: &'static str = NAME;
    type Spec = LinkSpec;

    fn build(spec: LinkSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let [source, target] = inputs else {
            return Err(DataFusionError::Internal(format!(
                "{NAME} takes two inputs (source, target)"
            )));
        };
        let source_schema = source.schema();
        let (key_types, schema) = spec.resolve(&source_schema, &target.schema())?;
        let key_columns = spec
            .source_keys
            .iter()
            .map(|k| Ok(source_schema.index_of(k)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            spec,
            key_types,
            key_columns,
            schema,
            index: Arc::default(),
        })
    }

    fn spec(&self) -> &LinkSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        self.spec.summary()
    }

    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties> {
        // The source's columns keep their positions: its orderings, equivalences and
        // constants hold for the output too (inner only removes rows).
        let source = &inputs[0];
        let source_eq = source.equivalence_properties();
        let mut eq = EquivalenceProperties::new(Arc::clone(&self.schema));
        eq.add_equivalence_group(source_eq.eq_group().clone())?;
        eq.add_constants(source_eq.constants())?;
        eq.add_orderings(
            source_eq
                .oeq_class()
                .iter()
                .map(|o| o.iter().cloned().collect::<Vec<_>>()),
        );
        Ok(PlanProperties::new(
            eq,
            source.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, _inputs: &[Plan]) -> Vec<InputNeeds> {
        vec![InputNeeds::any(None, true), InputNeeds::any(None, false)]
    }

    fn order(&self, inputs: &[Plan]) -> Option<Order> {
        // The source's rows, partition by partition, in their order.
        order_of(&inputs[0])?.within(&self.schema)
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let ctx = input_context(&ctx);
        let source = inputs[0].execute(partition, Arc::clone(&ctx))?;
        let cell = Arc::clone(&self.index);
        let target = Arc::clone(&inputs[1]);
        let spec = self.spec.clone();
        let key_types = self.key_types.clone();
        let key_columns = self.key_columns.clone();
        let schema = Arc::clone(&self.schema);
        let join = self.spec.join;
        let linked =
            async move {
                // The first partition to get here reads the target; the others wait for it.
                let index = cell
                    .get(NAME, || build_index(target, spec, key_types, ctx))
                    .await?;
                Ok::<_, DataFusionError>(source.map(move |batch| {
                    batch.and_then(|b| index.link(&b, &key_columns, join, &schema))
                }))
            };
        let stream = futures::stream::once(linked).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}
