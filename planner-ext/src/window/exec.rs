//! The Window kernel: evaluates window calls over input that is already in window order, each
//! `PARTITION BY` partition contiguous (a run of equal keys, NULL equal to NULL).

use std::sync::Arc;

use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    Distribution, ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
};
use serde::{Deserialize, Serialize};

use super::call::{PreparedCall, WindowCall};
use super::stream::{streaming_lookback, WindowStream};
use crate::ordered::input::input_context;
use crate::ordered::input::{ascending_requirement, empty_stream};
use crate::ordered::memory::Held;
use crate::ordered::order::Order;
use crate::ordered::{
    Batches, Functions, InputNeeds, InputOrder, Kernel, Layout, OrderedExec, Plan, REORDERED,
};

pub(super) const NAME: &str = "LtseqWindowExec";

/// What a Window operator computes, and how it reads its input (in window order, as one
/// partition or as partitions in order one after another; in parallel partitions when every
/// call looks a fixed number of rows back, see `WindowStream::in_parallel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSpec {
    pub layout: Layout,
    pub partition_by: Vec<String>,
    pub calls: Vec<WindowCall>,
}

crate::has_layout!(WindowSpec);

/// The Window kernel.
#[derive(Debug)]
pub struct Window {
    spec: WindowSpec,
    prepared: Arc<Vec<PreparedCall>>,
    partition_indices: Vec<usize>,
    schema: SchemaRef,
}

/// The physical Window operator (`LtseqWindowExec`).
pub type WindowExec = OrderedExec<Window>;

impl OrderedExec<Window> {
    /// `input` must deliver its rows in window order: as one partition, or, with `concat_by`,
    /// as partitions that are in order one after another (ascending in that ordinal column).
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        concat_by: Option<String>,
        partition_by: Vec<String>,
        calls: Vec<WindowCall>,
        hide_input: bool,
    ) -> Result<Self> {
        let spec = WindowSpec {
            layout: Layout::stream(concat_by, vec![]),
            partition_by,
            calls,
        };
        Self::new(spec, vec![input], hide_input)
    }

    pub fn partition_by(&self) -> &[String] {
        &self.spec().partition_by
    }

    pub fn calls(&self) -> &[WindowCall] {
        &self.spec().calls
    }
}

/// The operator's output schema over an input with `input_schema`: the input's fields, then
/// one field per call.
pub fn window_schema(input_schema: &SchemaRef, calls: &[WindowCall]) -> Result<SchemaRef> {
    let prepared = calls
        .iter()
        .map(|c| PreparedCall::try_new(c, input_schema))
        .collect::<Result<Vec<_>>>()?;
    output_schema(input_schema, &prepared)
}

fn output_schema(input_schema: &SchemaRef, prepared: &[PreparedCall]) -> Result<SchemaRef> {
    let mut fields: Vec<FieldRef> = input_schema.fields().iter().cloned().collect();
    for p in prepared {
        if fields.iter().any(|f| f.name() == p.output.name()) {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: output column {:?} already exists",
                p.output.name()
            )));
        }
        fields.push(Arc::clone(&p.output));
    }
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        input_schema.metadata().clone(),
    )))
}

impl Kernel for Window {
    const NAME: &'static str = NAME;
    type Spec = WindowSpec;

    fn build(spec: WindowSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let [input] = inputs else {
            return Err(DataFusionError::Internal(format!("{NAME} takes one input")));
        };
        let input_schema = input.schema();
        match &spec.layout.order {
            InputOrder::Concat(name) => {
                input_schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
                })?;
            }
            InputOrder::Single if input.output_partitioning().partition_count() != 1 => {
                return Err(DataFusionError::Plan(format!(
                    "{NAME} needs its ordered input as one partition, got {}",
                    input.output_partitioning().partition_count()
                )));
            }
            InputOrder::Single | InputOrder::Parallel | InputOrder::EachPartition => {}
        }
        let partition_indices = spec
            .partition_by
            .iter()
            .map(|name| {
                input_schema.index_of(name).map_err(|_| {
                    DataFusionError::Plan(format!(
                        "{NAME}: no input column named {name:?} to partition by"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let prepared = spec
            .calls
            .iter()
            .map(|c| PreparedCall::try_new(c, &input_schema))
            .collect::<Result<Vec<_>>>()?;
        if spec.layout.order == InputOrder::Parallel
            && streaming_lookback(&prepared, !partition_indices.is_empty())?.is_none()
        {
            return Err(DataFusionError::Plan(format!(
                "{NAME} runs in parallel partitions only when every call looks a fixed number \
                 of rows back"
            )));
        }
        let schema = output_schema(&input_schema, &prepared)?;
        Ok(Self {
            spec,
            prepared: Arc::new(prepared),
            partition_indices,
            schema,
        })
    }

    fn spec(&self) -> &WindowSpec {
        &self.spec
    }

    /// `[reordered]` when the operator reads one partition a host sorted (by the window
    /// partitions first, or by a declared order): its rows are then not in stored order, and
    /// the name, all a host's plan shows across the FFI, must say so to operators reading it
    /// ([`keeps_partition_order`](crate::ordered::input::keeps_partition_order)).
    fn tag(&self) -> String {
        match self.spec.layout.order {
            InputOrder::Single | InputOrder::EachPartition => REORDERED.to_string(),
            _ => String::new(),
        }
    }

    fn summary(&self) -> String {
        let calls: Vec<&str> = self.prepared.iter().map(|p| p.text.as_str()).collect();
        format!(
            "partition_by=[{}], calls=[{}]",
            self.spec.partition_by.join(", "),
            calls.join(", ")
        )
    }

    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties> {
        // Rows pass through in the order the operator reads them, their columns in place.
        let mut eq = EquivalenceProperties::new(Arc::clone(&self.schema));
        eq.add_orderings(self.spec.layout.orderings(&inputs[0], &self.schema));
        self.add_result_orderings(&mut eq)?;
        let partitioning = if self.spec.layout.order == InputOrder::EachPartition {
            Partitioning::UnknownPartitioning(inputs[0].output_partitioning().partition_count())
        } else {
            self.spec.layout.partitioning()
        };
        Ok(PlanProperties::new(
            eq,
            partitioning,
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, inputs: &[Plan]) -> Vec<InputNeeds> {
        if self.spec.layout.order == InputOrder::EachPartition {
            // whole PARTITION BY partitions in each input partition, in window order
            let schema = inputs[0].schema();
            let keys: Vec<Arc<dyn PhysicalExpr>> = self
                .partition_indices
                .iter()
                .map(|&i| Arc::new(Column::new(schema.field(i).name(), i)) as Arc<dyn PhysicalExpr>)
                .collect();
            let distribution = if keys.is_empty() {
                Distribution::SinglePartition
            } else {
                Distribution::KeyPartitioned(keys)
            };
            return vec![InputNeeds {
                distribution,
                ordering: ascending_requirement(&schema, &self.spec.layout.required_order),
                keeps_order: true,
            }];
        }
        self.spec.layout.input_needs(&inputs[0], true)
    }

    fn order(&self, inputs: &[Plan]) -> Option<Order> {
        self.spec.layout.order(&inputs[0], &self.schema)
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let Some(input) = self.spec.layout.open(NAME, &inputs[0], partition, &ctx)? else {
            return Ok(empty_stream(&self.schema));
        };
        let mut stream = WindowStream::new(
            input,
            Arc::clone(&self.schema),
            Arc::clone(&self.prepared),
            self.partition_indices.clone(),
            Held::new(NAME, partition, &ctx),
        )?;
        if self.spec.layout.order == InputOrder::Parallel {
            stream = stream.in_parallel(Arc::clone(&inputs[0]), partition, input_context(&ctx));
        }
        Ok(Box::pin(stream))
    }
}

impl Window {
    /// The orders of results that rise or fall within each `PARTITION BY` partition
    /// (`row_number`, `run_id`: a function's `sort_options`), as DataFusion's window operator
    /// declares them: alone without `PARTITION BY`, else after an order of the partition keys
    /// the rows already have.
    fn add_result_orderings(&self, eq: &mut EquivalenceProperties) -> Result<()> {
        let keys: Vec<Arc<dyn PhysicalExpr>> = self
            .partition_indices
            .iter()
            .map(|&i| {
                Arc::new(Column::new(self.schema.field(i).name(), i)) as Arc<dyn PhysicalExpr>
            })
            .collect();
        for call in self.prepared.iter() {
            let Some(options) = call.udwf.sort_options() else {
                continue;
            };
            let index = self.schema.index_of(call.output.name())?;
            let result =
                PhysicalSortExpr::new(Arc::new(Column::new(call.output.name(), index)), options);
            let (mut ordering, _) = eq.find_longest_permutation(&keys)?;
            if ordering.len() == keys.len() {
                ordering.push(result);
                eq.add_ordering(ordering);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::ordered::input::ORDER_KEEPING_OPERATORS;
    use crate::ordered::Kernel;

    #[test]
    fn the_core_knows_this_operator_keeps_partition_order() {
        assert!(ORDER_KEEPING_OPERATORS.contains(&<super::Window as Kernel>::NAME));
    }
}
