//! The Window operator over a named input table, as a table (the table-provider route the
//! DSL uses): its scan reads the input in window order and evaluates the calls over it. Only
//! the input columns the query and the calls need are read, and only the calls whose columns
//! the query reads are evaluated.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::Result;

use super::call::{PreparedCall, WindowArg, WindowCall};
use super::exec::{window_schema, WindowExec, WindowSpec, NAME};
use super::stream::streaming_lookback;
use crate::ordered::{Layout, OperatorProvider, OperatorTable, OrderedInput, Plan, Scan};

/// The Window operator over a named input that delivers its rows in window order: one
/// ordered partition (a view ending in `ORDER BY`), or, with `ordinal`, ltseq's stored order.
#[derive(Debug)]
pub struct WindowTable {
    input: OrderedInput,
    partition_by: Vec<String>,
    calls: Vec<WindowCall>,
}

/// The Window operator as a `TableProvider`.
pub type WindowTableProvider = OperatorProvider<WindowTable>;

impl OperatorProvider<WindowTable> {
    pub fn try_new(
        input: OrderedInput,
        partition_by: Vec<String>,
        calls: Vec<WindowCall>,
    ) -> Result<Self> {
        input.check(&partition_by, NAME)?;
        let schema = window_schema(&input.table.schema, &calls)?;
        let table = WindowTable {
            input,
            partition_by,
            calls,
        };
        Ok(Self::new(table, schema))
    }
}

#[async_trait]
impl OperatorTable for WindowTable {
    const WHO: &'static str = NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let n_input = self.input.table.schema.fields().len();
        let calls: Vec<WindowCall> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(c, _)| scan.wanted.contains(&(n_input + c)))
            .map(|(_, call)| call.clone())
            .collect();
        // The input columns needed: the ones asked for, the partition keys and the arguments.
        let mut needed: Vec<usize> = scan
            .wanted
            .iter()
            .copied()
            .filter(|&i| i < n_input)
            .collect();
        for name in &self.partition_by {
            needed.push(self.input.table.index_of(name, NAME)?);
        }
        for call in &calls {
            for arg in &call.args {
                if let WindowArg::Column(name) = arg {
                    needed.push(self.input.table.index_of(name, NAME)?);
                }
            }
        }
        // Look-backs of a fixed number of rows run in parallel over a stored order's partitions
        let prepared = calls
            .iter()
            .map(|c| PreparedCall::try_new(c, &self.input.table.schema))
            .collect::<Result<Vec<_>>>()?;
        let parallel = streaming_lookback(&prepared, !self.partition_by.is_empty())?.is_some();
        let (plan, order) = self
            .input
            .read(scan.session, &needed, parallel, NAME)
            .await?;
        let spec = WindowSpec {
            layout: Layout::hidden(&plan, order, scan.session),
            partition_by: self.partition_by.clone(),
            calls,
        };
        Ok(Arc::new(WindowExec::new(spec, vec![plan], true)?))
    }
}
