//! The Pattern operator over a named input table, as a table (the table-provider route the
//! DSL uses); the input delivers its rows in sequence order. A limit on the row output stops
//! the search after that many matches.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::Result;

use super::exec::{pattern_schema, PatternExec, PatternOutput, PatternSpec, NAME};
use crate::ordered::{Layout, OperatorProvider, OperatorTable, OrderedInput, Plan, Scan};

/// The DSL's Pattern table.
#[derive(Debug)]
pub struct PatternTable {
    input: OrderedInput,
    steps: Vec<String>,
    partition_by: Vec<String>,
    output: PatternOutput,
}

/// The DSL's Pattern table as a `TableProvider`.
pub type PatternTableProvider = OperatorProvider<PatternTable>;

impl OperatorProvider<PatternTable> {
    pub fn try_new(
        input: OrderedInput,
        steps: Vec<String>,
        partition_by: Vec<String>,
        output: PatternOutput,
    ) -> Result<Self> {
        let schema = pattern_schema(&input.table.schema, &steps, output)?;
        input.check(&partition_by, NAME)?;
        let table = PatternTable {
            input,
            steps,
            partition_by,
            output,
        };
        Ok(Self::new(table, schema))
    }
}

#[async_trait]
impl OperatorTable for PatternTable {
    const WHO: &'static str = NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let output = match (self.output, scan.limit) {
            (PatternOutput::Rows { fetch }, Some(l)) => PatternOutput::Rows {
                fetch: Some(fetch.map_or(l, |f| f.min(l))),
            },
            (o, _) => o,
        };
        // Rows mode reads every input column (they are the output); count mode only the steps
        // and the partition columns (the ordinal only if it orders the reading).
        let needed: Vec<usize> = match output {
            PatternOutput::Rows { .. } => (0..self.input.table.schema.fields().len()).collect(),
            PatternOutput::Count => self
                .steps
                .iter()
                .chain(&self.partition_by)
                .map(|n| self.input.table.index_of(n, NAME))
                .collect::<Result<Vec<_>>>()?,
        };
        // Stored order: each partition of ltseq's ordered source is a consecutive range;
        // match them in parallel, unless a fetch must stop an ordered reading early.
        let parallel = !matches!(output, PatternOutput::Rows { fetch: Some(_) });
        let (plan, order) = self
            .input
            .read(scan.session, &needed, parallel, NAME)
            .await?;
        let spec = PatternSpec {
            layout: Layout::hidden(&plan, order, scan.session),
            steps: self.steps.clone(),
            partition_by: self.partition_by.clone(),
            output,
        };
        let exec = PatternExec::new(spec, vec![plan], true)?;
        Ok(Arc::new(exec))
    }
}
