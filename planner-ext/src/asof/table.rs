//! The as-of join over two named tables, as a table: the left's columns, then the fetched
//! right columns. A scan reads only the columns the query needs from each side (the
//! table-provider route); ltseq's query planner rewrites the same scan into the
//! `LtseqAsofJoin` node over scans of both tables.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::Result;
use datafusion::logical_expr::{LogicalPlan, TableScan};

use super::exec::AsofExec;
use super::node::AsofNode;
use super::spec::{AsofSpec, ASOF_FUNCTION_NAME};
use crate::ordered::rewrite::{input_scan, scan_as_node, wanted};
use crate::ordered::{InputTable, OperatorProvider, OperatorTable, Plan, Scan};

/// The as-of join's table.
#[derive(Debug)]
pub struct AsofTable {
    left: InputTable,
    right: InputTable,
    /// Fetches every right column it names.
    spec: AsofSpec,
    schema: SchemaRef,
}

/// The as-of join's table as a `TableProvider`.
pub type AsofTableProvider = OperatorProvider<AsofTable>;

impl OperatorProvider<AsofTable> {
    pub fn try_new(
        left_name: impl Into<String>,
        left_schema: SchemaRef,
        right_name: impl Into<String>,
        right_schema: SchemaRef,
        spec: AsofSpec,
    ) -> Result<Self> {
        let schema = spec.resolve(&left_schema, &right_schema)?.schema;
        let table = AsofTable {
            left: InputTable::new(left_name, left_schema),
            right: InputTable::new(right_name, right_schema),
            spec,
            schema: Arc::clone(&schema),
        };
        Ok(Self::new(table, schema))
    }
}

impl AsofTable {
    /// For a projection of this table's columns: the left columns to read (keys included,
    /// ascending), the right columns to read (keys and fetched, ascending), and the spec
    /// fetching only the projected right columns.
    pub fn plan_projection(
        &self,
        projection: &[usize],
    ) -> Result<(Vec<usize>, Vec<usize>, AsofSpec)> {
        let who = ASOF_FUNCTION_NAME;
        let n = self.left.schema.fields().len();
        let mut left: Vec<usize> = projection.iter().copied().filter(|&i| i < n).collect();
        for k in self.spec.left_by.iter().chain([&self.spec.left_on]) {
            left.push(self.left.index_of(k, who)?);
        }
        left.sort_unstable();
        left.dedup();
        let mut keep: Vec<usize> = projection
            .iter()
            .filter(|&&i| i >= n)
            .map(|&i| i - n)
            .collect();
        keep.sort_unstable();
        keep.dedup();
        let spec = self.spec.fetching(&keep);
        let mut right = Vec::new();
        for k in self
            .spec
            .right_by
            .iter()
            .chain([&self.spec.right_on])
            .chain(&spec.fetch)
        {
            right.push(self.right.index_of(k, who)?);
        }
        right.sort_unstable();
        right.dedup();
        Ok((left, right, spec))
    }

    pub fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

#[async_trait]
impl OperatorTable for AsofTable {
    const WHO: &'static str = ASOF_FUNCTION_NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let (left_cols, right_cols, spec) = self.plan_projection(scan.wanted)?;
        let who = ASOF_FUNCTION_NAME;
        // every left row stays once: a limit can go to the left
        let left = self
            .left
            .scan(scan.session, &left_cols, scan.limit, who)
            .await?;
        let right = self
            .right
            .scan(scan.session, &right_cols, None, who)
            .await?;
        Ok(Arc::new(AsofExec::try_new(left, right, spec, true)?))
    }
}

/// A scan of an as-of join's table as the `LtseqAsofJoin` node over scans of both tables.
pub(super) fn rewrite_scan(
    scan: &TableScan,
    provider: &dyn TableProvider,
    session: &dyn Session,
) -> Result<Option<LogicalPlan>> {
    let Some(table) = (provider as &dyn std::any::Any).downcast_ref::<AsofTableProvider>() else {
        return Ok(None);
    };
    let names = table.column_names();
    let (left_cols, right_cols, spec) = table.plan_projection(&wanted(scan, names.len()))?;
    let left = input_scan(session, &table.left, left_cols, ASOF_FUNCTION_NAME)?;
    let right = input_scan(session, &table.right, right_cols, ASOF_FUNCTION_NAME)?;
    let node = AsofNode::try_new(left, right, spec)?;
    Ok(Some(scan_as_node(scan, Arc::new(node), &names)?))
}
