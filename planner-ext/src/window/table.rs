//! The Window operator over a named input table, as a table (the table-provider route the
//! DSL uses): its scan reads the input in window order and evaluates the calls over it. Only
//! the input columns the query and the calls need are read, and only the calls whose columns
//! the query reads are evaluated.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::ExecutionPlan;

use super::call::{WindowArg, WindowCall};
use super::exec::{window_schema, WindowExec, WindowSpec, NAME};
use crate::ordered::input::read_ordered;
use crate::ordered::provider::project_names;
use crate::ordered::{InputTable, OperatorProvider, OperatorTable};

/// The Window operator over a named input that delivers its rows in window order: one
/// ordered partition (a view ending in `ORDER BY`), or, with `ordinal`, ltseq's stored order.
#[derive(Debug)]
pub struct WindowTable {
    input: InputTable,
    ordinal: Option<String>,
    partition_by: Vec<String>,
    calls: Vec<WindowCall>,
    schema: SchemaRef,
}

/// The Window operator as a `TableProvider`.
pub type WindowTableProvider = OperatorProvider<WindowTable>;

impl OperatorProvider<WindowTable> {
    /// `ordinal`: when set, the input is in order by this column (ascending, as the
    /// `Sequence` operator numbers rows) rather than delivered as one ordered partition.
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: Option<String>,
        partition_by: Vec<String>,
        calls: Vec<WindowCall>,
    ) -> Result<Self> {
        let input = InputTable::new(input_name, input_schema);
        for name in partition_by.iter().chain(&ordinal) {
            input.schema.index_of(name).map_err(|_| {
                DataFusionError::Plan(format!("{NAME}: no input column named {name:?}"))
            })?;
        }
        let schema = window_schema(&input.schema, &calls)?;
        Ok(Self::new(WindowTable {
            input,
            ordinal,
            partition_by,
            calls,
            schema,
        }))
    }
}

#[async_trait]
impl OperatorTable for WindowTable {
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
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let n_input = self.input.schema.fields().len();
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let calls: Vec<WindowCall> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(c, _)| wanted.contains(&(n_input + c)))
            .map(|(_, call)| call.clone())
            .collect();
        // The input columns needed: the ones asked for, the partition keys and the arguments.
        let mut needed: Vec<usize> = wanted.iter().copied().filter(|&i| i < n_input).collect();
        for name in &self.partition_by {
            needed.push(self.input.index_of(name, NAME)?);
        }
        for call in &calls {
            for arg in &call.args {
                if let WindowArg::Column(name) = arg {
                    needed.push(self.input.index_of(name, NAME)?);
                }
            }
        }
        let (plan, order) = read_ordered(
            session,
            &self.input,
            &needed,
            self.ordinal.as_deref(),
            false,
            NAME,
        )
        .await?;
        let spec = WindowSpec {
            order,
            partition_by: self.partition_by.clone(),
            calls,
            output_partitions: session.config_options().execution.target_partitions,
        };
        let exec = Arc::new(WindowExec::new(spec, vec![plan], true)?);
        let names: Vec<String> = wanted
            .iter()
            .map(|&i| self.schema.field(i).name().clone())
            .collect();
        project_names(exec, &names)
    }
}
