//! The Pattern kernel: ordered search for consecutive steps over input in sequence order with
//! one BOOLEAN column per step.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
};
use serde::{Deserialize, Serialize};

use super::stream::PatternStream;
use crate::ordered::input::{ascending_requirement, declared_partition, ordered_stream};
use crate::ordered::{Functions, InputNeeds, InputOrder, Kernel, OrderedExec};

pub(super) const NAME: &str = "LtseqPatternExec";
/// The count output's column.
pub const COUNT_COLUMN: &str = "count";

/// What the operator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternOutput {
    /// The rows where matches start (at most `fetch` of them).
    Rows { fetch: Option<usize> },
    /// One row: the number of matches.
    Count,
}

/// The output schema: the input without the step columns, or the count.
pub fn pattern_schema(
    input: &Schema,
    steps: &[String],
    output: PatternOutput,
) -> Result<SchemaRef> {
    if steps.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{NAME}: give at least one step"
        )));
    }
    for s in steps {
        let field = input.field_with_name(s).map_err(|_| {
            DataFusionError::Plan(format!("{NAME}: the input has no step column {s:?}"))
        })?;
        if field.data_type() != &DataType::Boolean {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: the step column {s:?} must be BOOLEAN, got {}",
                field.data_type()
            )));
        }
    }
    Ok(match output {
        PatternOutput::Count => Arc::new(Schema::new(vec![Field::new(
            COUNT_COLUMN,
            DataType::Int64,
            false,
        )])),
        PatternOutput::Rows { .. } => Arc::new(Schema::new_with_metadata(
            input
                .fields()
                .iter()
                .filter(|f| !steps.contains(f.name()))
                .cloned()
                .collect::<Vec<_>>(),
            input.metadata().clone(),
        )),
    })
}

/// Everything that configures a physical Pattern operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternSpec {
    /// How the input delivers its rows in sequence order (`Parallel`: each partition matched
    /// on its own, reading into the next ones for matches that start at its end).
    pub order: InputOrder,
    pub steps: Vec<String>,
    pub partition_by: Vec<String>,
    /// With a visible input: the order it must have (ascending, NULLs last, one partition).
    pub required_order: Vec<String>,
    pub output: PatternOutput,
    /// Declared output partitions (all rows in partition 0 unless in parallel).
    pub output_partitions: usize,
}

/// The Pattern kernel.
#[derive(Debug)]
pub struct Pattern {
    spec: PatternSpec,
    schema: SchemaRef,
}

/// The physical `Pattern` operator (`LtseqPatternExec`).
pub type PatternExec = OrderedExec<Pattern>;

impl OrderedExec<Pattern> {
    /// `input` must deliver its rows in sequence order: as one partition, or, with
    /// `concat_by`, as partitions in order one after another (ascending in that ordinal).
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        concat_by: Option<String>,
        steps: Vec<String>,
        partition_by: Vec<String>,
        output: PatternOutput,
        hide_input: bool,
    ) -> Result<Self> {
        let spec = PatternSpec {
            order: concat_by.map_or(InputOrder::Single, InputOrder::Concat),
            steps,
            required_order: partition_by.clone(),
            partition_by,
            output,
            output_partitions: 1,
        };
        Self::new(spec, vec![input], hide_input)
    }

    /// Matches each input partition in parallel (the input's partitions must be consecutive
    /// ranges of the sequence, in order, and re-executable: ltseq's stored-order source). Not
    /// with a `fetch` (a limit reads in order and stops).
    pub fn with_parallel_partitions(self) -> Result<Self> {
        if !self.hides_inputs()
            || matches!(self.spec().output, PatternOutput::Rows { fetch: Some(_) })
        {
            return Err(DataFusionError::Internal(format!(
                "{NAME}: parallel partitions need a hidden input and no fetch"
            )));
        }
        let n = self.input().output_partitioning().partition_count().max(1);
        self.with_spec(|s| {
            s.order = InputOrder::Parallel;
            s.output_partitions = n;
        })
    }

    /// Requires the (visible) input ordered by the partition columns, then `order_by`.
    pub fn with_required_order(self, order_by: Vec<String>) -> Result<Self> {
        self.with_spec(|s| {
            s.required_order = s.partition_by.iter().cloned().chain(order_by).collect();
        })
    }

    /// Declares `n` output partitions, all but the first empty.
    pub fn with_output_partitions(self, n: usize) -> Result<Self> {
        self.with_spec(|s| s.output_partitions = n.max(1))
    }
}

impl Kernel for Pattern {
    const NAME: &'static str = NAME;
    type Spec = PatternSpec;

    fn build(spec: PatternSpec, inputs: &[Arc<dyn ExecutionPlan>], _: &Functions) -> Result<Self> {
        let [input] = inputs else {
            return Err(DataFusionError::Internal(format!("{NAME} takes one input")));
        };
        let input_schema = input.schema();
        let concat = match &spec.order {
            InputOrder::Concat(name) => Some(name),
            _ => None,
        };
        for name in spec.partition_by.iter().chain(concat) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: the input has no column {name:?}"))
            })?;
        }
        let schema = pattern_schema(&input_schema, &spec.steps, spec.output)?;
        Ok(Self { spec, schema })
    }

    fn spec(&self) -> &PatternSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        let output = match self.spec.output {
            PatternOutput::Count => "count".to_string(),
            PatternOutput::Rows { fetch: None } => "rows".to_string(),
            PatternOutput::Rows { fetch: Some(n) } => format!("rows(fetch={n})"),
        };
        format!(
            "steps=[{}], partition_by=[{}], output={output}",
            self.spec.steps.join(", "),
            self.spec.partition_by.join(", ")
        )
    }

    fn tag(&self) -> String {
        if self.spec.order == InputOrder::Parallel {
            format!("[{} partitions in parallel]", self.spec.output_partitions)
        } else {
            String::new()
        }
    }

    fn properties(&self, _inputs: &[Arc<dyn ExecutionPlan>]) -> Result<PlanProperties> {
        Ok(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&self.schema)),
            Partitioning::UnknownPartitioning(self.spec.output_partitions.max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, inputs: &[Arc<dyn ExecutionPlan>]) -> Vec<InputNeeds> {
        let ordering = ascending_requirement(&inputs[0].schema(), &self.spec.required_order);
        let rows = matches!(self.spec.output, PatternOutput::Rows { .. });
        vec![InputNeeds::single(ordering, rows)]
    }

    fn execute(
        &self,
        inputs: &[Arc<dyn ExecutionPlan>],
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let parallel = self.spec.order == InputOrder::Parallel;
        let declared = self.spec.output_partitions.max(1);
        if let Some(empty) = declared_partition(NAME, partition, declared, &self.schema, parallel)?
        {
            return Ok(empty);
        }
        let input = &inputs[0];
        // A visible input is made one ordered partition by the optimizer (the input needs); a
        // hidden one must be, unless read in parallel or in order.
        let partitions = input.output_partitioning().partition_count();
        if self.spec.order == InputOrder::Single && partitions != 1 {
            return Err(DataFusionError::Plan(format!(
                "{NAME} needs its ordered input as one partition, got {partitions}"
            )));
        }
        let input_schema = input.schema();
        let lookahead = parallel.then(|| (Arc::clone(input), partition + 1, Arc::clone(&context)));
        let stream = ordered_stream(input, &self.spec.order, partition, &context, NAME)?;
        let index_of = |names: &[String]| -> Result<Vec<usize>> {
            names
                .iter()
                .map(|s| Ok(input_schema.index_of(s)?))
                .collect()
        };
        let steps = index_of(&self.spec.steps)?;
        let keys = index_of(&self.spec.partition_by)?;
        let keep = (0..input_schema.fields().len())
            .filter(|i| !steps.contains(i))
            .collect();
        Ok(Box::pin(PatternStream::new(
            stream,
            Arc::clone(&self.schema),
            steps,
            keys,
            keep,
            self.spec.output,
            lookahead,
        )))
    }
}
