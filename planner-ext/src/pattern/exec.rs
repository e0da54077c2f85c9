//! The Pattern kernel: ordered search for consecutive steps over input in sequence order with
//! one BOOLEAN column per step.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{ExecutionPlan, PlanProperties};
use serde::{Deserialize, Serialize};

use super::stream::PatternStream;
use crate::ordered::input::empty_stream;
use crate::ordered::order::Order;
use crate::ordered::{Batches, Functions, InputNeeds, Kernel, Layout, OrderedExec, Plan};

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

/// Everything that configures a physical Pattern operator (in parallel, each partition is
/// matched on its own, reading into the next ones for matches that start at its end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternSpec {
    pub layout: Layout,
    pub steps: Vec<String>,
    pub partition_by: Vec<String>,
    pub output: PatternOutput,
}

crate::has_layout!(PatternSpec);

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
            layout: Layout::stream(concat_by, partition_by.clone()),
            steps,
            partition_by,
            output,
        };
        Self::new(spec, vec![input], hide_input)
    }

    /// Matches each input partition in parallel. Not with a `fetch` (a limit reads in order
    /// and stops).
    pub fn with_parallel_partitions(self) -> Result<Self> {
        let allowed = !matches!(self.spec().output, PatternOutput::Rows { fetch: Some(_) });
        self.in_parallel(allowed, "no fetch", |_| {})
    }
}

impl Kernel for Pattern {
    const NAME: &'static str = NAME;
    type Spec = PatternSpec;

    fn build(spec: PatternSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let [input] = inputs else {
            return Err(DataFusionError::Internal(format!("{NAME} takes one input")));
        };
        let input_schema = input.schema();
        for name in spec.partition_by.iter().chain(spec.layout.concat_by()) {
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
        self.spec.layout.tag()
    }

    fn properties(&self, _inputs: &[Plan]) -> Result<PlanProperties> {
        Ok(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&self.schema)),
            self.spec.layout.partitioning(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, inputs: &[Plan]) -> Vec<InputNeeds> {
        let rows = matches!(self.spec.output, PatternOutput::Rows { .. });
        self.spec.layout.input_needs(&inputs[0], rows)
    }

    fn order(&self, inputs: &[Plan]) -> Option<Order> {
        // The starting rows, in the order the operator reads them.
        match self.spec.output {
            PatternOutput::Rows { .. } => self.spec.layout.order(&inputs[0], &self.schema),
            _ => None,
        }
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let input = &inputs[0];
        let Some(stream) = self.spec.layout.open(NAME, input, partition, &ctx)? else {
            return Ok(empty_stream(&self.schema));
        };
        let input_schema = input.schema();
        let lookahead = self
            .spec
            .layout
            .parallel()
            .then(|| (Arc::clone(input), partition + 1, Arc::clone(&ctx)));
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
