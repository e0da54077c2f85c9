//! The Output operator over a named input (the DSL's view of a relation), as a table: its
//! scan proves the order of the input's plan and picks how to read it.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};

use super::exec::{OutputExec, OutputSpec, Read, SortKey, NAME};
use crate::ordered::memory::session_memory_limit;
use crate::ordered::order::OrderKey;
use crate::ordered::{InputTable, OperatorProvider, OperatorTable, Plan, Scan};

/// The rows of a named input in the order `keys`; optionally the same rows sorted by the
/// host (a view ending in `ORDER BY` the keys), read when the input's order is not proven: the
/// host sorts in parallel on its own runtime.
#[derive(Debug)]
pub struct OutputTable {
    input: InputTable,
    keys: Vec<SortKey>,
    sorted: Option<InputTable>,
    /// The rows `skip..skip + fetch` in the order (a slice), or all.
    skip: usize,
    fetch: Option<usize>,
}

/// The Output operator's table as a `TableProvider`.
pub type OutputTableProvider = OperatorProvider<OutputTable>;

impl OperatorProvider<OutputTable> {
    /// The rows of `input` in the order `keys`; `sorted`: the same rows (same schema) sorted
    /// by the host, for when `input` is not in order; only the rows `skip..skip + fetch` of
    /// that order (a slice), or all with `(0, None)`.
    pub fn try_new(
        input: InputTable,
        keys: Vec<SortKey>,
        sorted: Option<InputTable>,
        (skip, fetch): (usize, Option<usize>),
    ) -> Result<Self> {
        for k in &keys {
            input.index_of(&k.column, NAME)?;
        }
        if let Some(s) = &sorted {
            if s.schema.fields() != input.schema.fields() {
                return Err(DataFusionError::Plan(format!(
                    "{NAME}: the sorted input {:?} has another schema than {:?}",
                    s.name, input.name
                )));
            }
        }
        let schema: SchemaRef = Arc::clone(&input.schema);
        Ok(Self::new(
            OutputTable {
                input,
                keys,
                sorted,
                skip,
                fetch,
            },
            schema,
        ))
    }
}

#[async_trait]
impl OperatorTable for OutputTable {
    const WHO: &'static str = NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        // The input columns the query reads, and the keys.
        let mut columns: Vec<usize> = scan.wanted.to_vec();
        for k in &self.keys {
            columns.push(self.input.index_of(&k.column, NAME)?);
        }
        columns.sort_unstable();
        columns.dedup();
        let want: Vec<OrderKey> = self.keys.iter().map(SortKey::key).collect();
        let mut plan = self.input.scan(scan.session, &columns, None, NAME).await?;
        let mut read = Read::for_plan(&plan, &want);
        // With a memory limit, the rows are sorted here, by a sort that spills within it (a
        // host's sort across the FFI runs without the host's limit); else by the host.
        let limited = session_memory_limit(scan.session.session_id()).is_some();
        if let (Read::Sort, Some(sorted), false) = (read, &self.sorted, limited) {
            plan = sorted.scan(scan.session, &columns, None, NAME).await?;
            read = Read::for_plan(&plan, &want);
        }
        let spec = OutputSpec {
            keys: self.keys.clone(),
            read,
            // a LIMIT the host pushes into the scan counts rows after the slice's
            fetch: match (self.fetch, scan.limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            skip: self.skip,
            output_partitions: scan.session.config_options().execution.target_partitions,
        };
        Ok(Arc::new(OutputExec::new(spec, vec![plan], true)?))
    }
}
