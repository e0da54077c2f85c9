//! `Link` over two named tables, as a table: the source's columns, then every target column
//! named `prefix + column`. A scan reads only the columns the query needs from each side (the
//! table-provider route); ltseq's query planner rewrites the same scan into the `LtseqLink`
//! node over scans of both tables.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::{LogicalPlan, TableScan};

use super::exec::LinkExec;
use super::node::LinkNode;
use super::spec::{LinkJoin, LinkSpec, LINK_FUNCTION_NAME};
use crate::ordered::rewrite::{input_scan, scan_as_node, wanted};
use crate::ordered::{InputTable, OperatorProvider, OperatorTable, Plan, Scan};

/// The Link operator's table.
#[derive(Debug)]
pub struct LinkTable {
    source: InputTable,
    target: InputTable,
    /// `fetch` holds every target column.
    spec: LinkSpec,
    schema: SchemaRef,
}

/// The Link operator's table as a `TableProvider`.
pub type LinkTableProvider = OperatorProvider<LinkTable>;

impl OperatorProvider<LinkTable> {
    /// `spec.fetch` is ignored: the table offers every target column.
    pub fn try_new(
        source_name: impl Into<String>,
        source_schema: SchemaRef,
        target_name: impl Into<String>,
        target_schema: SchemaRef,
        spec: LinkSpec,
    ) -> Result<Self> {
        let spec = spec.fetching(
            target_schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        );
        let (_, schema) = spec.resolve(&source_schema, &target_schema)?;
        let table = LinkTable {
            source: InputTable::new(source_name, source_schema),
            target: InputTable::new(target_name, target_schema),
            spec,
            schema: Arc::clone(&schema),
        };
        Ok(Self::new(table, schema))
    }
}

impl LinkTable {
    /// For a projection of this table's columns: the source columns to read (keys included,
    /// ascending), the target columns to read (keys and fetched, ascending), and the spec
    /// fetching only the projected target columns.
    pub fn plan_projection(
        &self,
        projection: &[usize],
    ) -> Result<(Vec<usize>, Vec<usize>, LinkSpec)> {
        let n = self.source.schema.fields().len();
        let mut source: Vec<usize> = projection.iter().copied().filter(|&i| i < n).collect();
        for k in &self.spec.source_keys {
            source.push(self.source.index_of(k, LINK_FUNCTION_NAME)?);
        }
        source.sort_unstable();
        source.dedup();
        let mut fetch_idx: Vec<usize> = projection
            .iter()
            .filter(|&&i| i >= n)
            .map(|&i| i - n)
            .collect();
        fetch_idx.sort_unstable();
        fetch_idx.dedup();
        let fetch = fetch_idx
            .iter()
            .map(|&i| self.target.schema.field(i).name().clone())
            .collect();
        let mut target = fetch_idx;
        for k in &self.spec.target_keys {
            target.push(self.target.index_of(k, LINK_FUNCTION_NAME)?);
        }
        target.sort_unstable();
        target.dedup();
        Ok((source, target, self.spec.fetching(fetch)))
    }

    /// The names of this table's columns (source columns, then prefixed target columns).
    pub fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

#[async_trait]
impl OperatorTable for LinkTable {
    const WHO: &'static str = LINK_FUNCTION_NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let (source_cols, target_cols, spec) = self.plan_projection(scan.wanted)?;
        // A left link keeps every source row, so a scan.limit can go to the source.
        let source_limit = if self.spec.join == LinkJoin::Left {
            scan.limit
        } else {
            None
        };
        let who = LINK_FUNCTION_NAME;
        let source = self
            .source
            .scan(scan.session, &source_cols, source_limit, who)
            .await?;
        let target = self
            .target
            .scan(scan.session, &target_cols, None, who)
            .await?;
        Ok(Arc::new(LinkExec::try_new(source, target, spec, true)?))
    }
}

/// A scan of a `Link` table as the `LtseqLink` node over scans of the source (the columns
/// the query reads, and the keys) and the target (the keys and the fetched columns).
pub(super) fn rewrite_scan(
    scan: &TableScan,
    provider: &dyn TableProvider,
    session: &dyn Session,
) -> Result<Option<LogicalPlan>> {
    let Some(link) = (provider as &dyn std::any::Any).downcast_ref::<LinkTableProvider>() else {
        return Ok(None);
    };
    let names = link.column_names();
    let (source_cols, target_cols, spec) = link.plan_projection(&wanted(scan, names.len()))?;
    let source = input_scan(session, &link.source, source_cols, LINK_FUNCTION_NAME)?;
    let target = input_scan(session, &link.target, target_cols, LINK_FUNCTION_NAME)?;
    let node = LinkNode::try_new(source, target, spec)?;
    Ok(Some(scan_as_node(scan, Arc::new(node), &names)?))
}
