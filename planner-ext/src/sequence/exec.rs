//! The `Sequence` kernel: each output partition streams the matching input partition
//! unchanged and appends the ordinal.

use std::fmt;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, OrderingRequirements, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::ordered::input::input_context;
use crate::ordered::order::{ascending, order_of, Order, Shape};
use crate::ordered::{Batches, Functions, InputNeeds, Kernel, OrderedExec, Plan};

/// The ordinal column's default name.
pub const DEFAULT_ORDINAL_COLUMN: &str = "__ltseq_rn";

/// Rows one input partition may hold (2^40); partition `p` starts at `p * 2^40`.
const PARTITION_STRIDE: i64 = 1 << 40;

/// The output schema: the input's fields, then the ordinal (BIGINT, never NULL).
pub fn sequence_schema(input: &Schema, ordinal: &str) -> Result<SchemaRef> {
    if input.field_with_name(ordinal).is_ok() {
        return Err(DataFusionError::Plan(format!(
            "ltseq_sequence: the input already has a column named {ordinal:?}"
        )));
    }
    let mut fields: Vec<Arc<Field>> = input.fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(ordinal, DataType::Int64, false)));
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        input.metadata().clone(),
    )))
}

/// What a `Sequence` computes: the name of its ordinal column. The logical node and the
/// physical operator share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct SequenceSpec {
    pub ordinal: String,
}

/// The `Sequence` kernel.
#[derive(Debug)]
pub struct Sequence {
    spec: SequenceSpec,
    schema: SchemaRef,
}

/// The physical `Sequence` operator (`LtseqSequenceExec` in `EXPLAIN`).
pub type SequenceExec = OrderedExec<Sequence>;

impl OrderedExec<Sequence> {
    /// Numbers the rows of `input`; `hide_input`: the table-provider route.
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        ordinal: impl Into<String>,
        hide_input: bool,
    ) -> Result<Self> {
        let spec = SequenceSpec {
            ordinal: ordinal.into(),
        };
        Self::new(spec, vec![input], hide_input)
    }

    pub fn ordinal(&self) -> &str {
        &self.spec().ordinal
    }
}

impl Kernel for Sequence {
    const NAME: &'static str = "LtseqSequenceExec";
    type Spec = SequenceSpec;

    fn build(spec: SequenceSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let [input] = inputs else {
            return Err(DataFusionError::Internal(format!(
                "{} takes one input",
                Self::NAME
            )));
        };
        let schema = sequence_schema(input.schema().as_ref(), &spec.ordinal)?;
        Ok(Self { spec, schema })
    }

    fn spec(&self) -> &SequenceSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        format!("ordinal={}", self.spec.ordinal)
    }

    fn display(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", Self::NAME, self.summary())
    }

    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties> {
        let input = &inputs[0];
        let mut eq = EquivalenceProperties::new(Arc::clone(&self.schema));
        // Rows pass through in order, so every ordering of the input still holds (the input's
        // columns keep their positions) ...
        let input_orderings: Vec<LexOrdering> = input
            .equivalence_properties()
            .oeq_class()
            .iter()
            .cloned()
            .collect();
        eq.add_orderings(input_orderings);
        // ... and each partition is ordered by the ordinal.
        let ordinal_index = self.schema.fields().len() - 1;
        let ordinal_expr: Arc<dyn PhysicalExpr> = Arc::new(Column::new(
            self.schema.field(ordinal_index).name(),
            ordinal_index,
        ));
        eq.add_ordering([PhysicalSortExpr::new_default(ordinal_expr)]);
        Ok(PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, inputs: &[Plan]) -> Vec<InputNeeds> {
        // Keep whatever order the input has: that order is what this node numbers. An ordered
        // input is ordered as one stream: keep it one partition, so the optimizer cannot
        // replace its final merge by per-partition sorts (the ordinals number partition after
        // partition). An unordered input may stay split: its partitions, in index order, are
        // its order.
        let ordering = inputs[0]
            .output_ordering()
            .cloned()
            .map(OrderingRequirements::from);
        let needs = if ordering.is_some() {
            InputNeeds::single(ordering, true)
        } else {
            InputNeeds::any(None, true)
        };
        vec![needs]
    }

    fn order(&self, inputs: &[Plan]) -> Option<Order> {
        // Ordinals rise partition after partition; a one-stream order of the input holds too.
        let ordinal = self.schema.field(self.schema.fields().len() - 1).name();
        let mut order = order_of(&inputs[0])
            .and_then(Order::in_order)
            .unwrap_or(Order {
                orderings: vec![],
                shape: Shape::InOrder,
                copies: vec![],
            });
        order.orderings.push(vec![ascending(ordinal)]);
        Some(order)
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let input = inputs[0].execute(partition, input_context(&ctx))?;
        Ok(Box::pin(SequenceStream {
            input,
            schema: Arc::clone(&self.schema),
            next: partition as i64 * PARTITION_STRIDE,
            limit: (partition as i64 + 1) * PARTITION_STRIDE,
        }))
    }
}

struct SequenceStream {
    input: SendableRecordBatchStream,
    schema: SchemaRef,
    next: i64,
    limit: i64,
}

impl SequenceStream {
    fn number(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        let rows = batch.num_rows() as i64;
        if self.next + rows > self.limit {
            return Err(DataFusionError::Execution(
                "ltseq_sequence: an input partition holds more than 2^40 rows".to_string(),
            ));
        }
        let ordinals: ArrayRef =
            Arc::new(Int64Array::from_iter_values(self.next..self.next + rows));
        self.next += rows;
        let mut columns = batch.columns().to_vec();
        columns.push(ordinals);
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

impl Stream for SequenceStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.input.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(batch))) => Poll::Ready(Some(self.number(batch))),
            other => other,
        }
    }
}

impl RecordBatchStream for SequenceStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

#[cfg(test)]
mod tests {
    use crate::ordered::input::ORDER_KEEPING_OPERATORS;
    use crate::ordered::Kernel;

    #[test]
    fn the_core_knows_this_operator_keeps_partition_order() {
        assert!(ORDER_KEEPING_OPERATORS.contains(&<super::Sequence as Kernel>::NAME));
    }
}
