//! The Pattern operator over a named input table, as a table (the table-provider route the
//! DSL uses); the input delivers its rows in sequence order. A limit on the row output stops
//! the search after that many matches.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::exec::{pattern_schema, PatternExec, PatternOutput, PatternSpec, NAME};
use crate::ordered::input::read_ordered;
use crate::ordered::provider::project;
use crate::ordered::{InputOrder, InputTable, OperatorProvider, OperatorTable};

/// The DSL's Pattern table.
#[derive(Debug)]
pub struct PatternTable {
    input: InputTable,
    ordinal: Option<String>,
    steps: Vec<String>,
    partition_by: Vec<String>,
    output: PatternOutput,
    schema: SchemaRef,
}

/// The DSL's Pattern table as a `TableProvider`.
pub type PatternTableProvider = OperatorProvider<PatternTable>;

impl OperatorProvider<PatternTable> {
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: Option<String>,
        steps: Vec<String>,
        partition_by: Vec<String>,
        output: PatternOutput,
    ) -> Result<Self> {
        let schema = pattern_schema(&input_schema, &steps, output)?;
        for name in partition_by.iter().chain(&ordinal) {
            input_schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: the input has no column {name:?}"))
            })?;
        }
        Ok(Self::new(PatternTable {
            input: InputTable::new(input_name, input_schema),
            ordinal,
            steps,
            partition_by,
            output,
            schema,
        }))
    }
}

#[async_trait]
impl OperatorTable for PatternTable {
    fn who(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let output = match (self.output, limit) {
            (PatternOutput::Rows { fetch }, Some(l)) => PatternOutput::Rows {
                fetch: Some(fetch.map_or(l, |f| f.min(l))),
            },
            (o, _) => o,
        };
        // Rows mode reads every input column (they are the output); count mode only the steps
        // and the partition columns (the ordinal only if it orders the reading).
        let needed: Vec<usize> = match output {
            PatternOutput::Rows { .. } => (0..self.input.schema.fields().len()).collect(),
            PatternOutput::Count => self
                .steps
                .iter()
                .chain(&self.partition_by)
                .map(|n| self.input.index_of(n, NAME))
                .collect::<Result<Vec<_>>>()?,
        };
        // Stored order: each partition of ltseq's ordered source is a consecutive range;
        // match them in parallel, unless a fetch must stop an ordered reading early.
        let parallel = !matches!(output, PatternOutput::Rows { fetch: Some(_) });
        let (plan, order) = read_ordered(
            session,
            &self.input,
            &needed,
            self.ordinal.as_deref(),
            parallel,
            NAME,
        )
        .await?;
        let output_partitions = match order {
            InputOrder::Parallel => plan.output_partitioning().partition_count().max(1),
            _ => session.config_options().execution.target_partitions,
        };
        let spec = PatternSpec {
            order,
            steps: self.steps.clone(),
            partition_by: self.partition_by.clone(),
            required_order: vec![],
            output,
            output_partitions,
        };
        let exec = PatternExec::new(spec, vec![plan], true)?;
        project(Arc::new(exec), projection)
    }
}
