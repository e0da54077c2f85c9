//! The `GroupOrdered` operator over a named input table, as a table (the table-provider route
//! the DSL uses); the input delivers its rows in sequence order (a view ending in `ORDER BY`,
//! or ltseq's stored order, read partition by partition or in parallel).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{LogicalPlan, TableScan};

use super::exec::{GroupOrderedExec, GroupOrderedExecSpec};
use super::node::GroupOrderedNode;
use super::spec::{group_ordered_schema, read_columns, AggCall, Boundary, GroupOrderedSpec, NAME};
use crate::ordered::rewrite::{input_scan, scan_as_node};
use crate::ordered::{
    Functions, InputTable, Layout, OperatorProvider, OperatorTable, OrderedInput, Plan, Scan,
};

/// The DSL's `GroupOrdered` table.
#[derive(Debug)]
pub struct GroupOrderedTable {
    input: OrderedInput,
    partition_by: Vec<String>,
    boundary: Boundary,
    aggs: Vec<AggCall>,
    /// The group ids must be 1-based and consecutive (else, for stored-order input, they
    /// may only rise, and the partitions are grouped in parallel).
    dense_ids: bool,
}

/// The DSL's `GroupOrdered` table as a `TableProvider`.
pub type GroupOrderedTableProvider = OperatorProvider<GroupOrderedTable>;

impl OperatorProvider<GroupOrderedTable> {
    pub fn try_new(
        input: OrderedInput,
        partition_by: Vec<String>,
        boundary: Boundary,
        aggs: Vec<AggCall>,
    ) -> Result<Self> {
        let schema = group_ordered_schema(&input.table.schema, &aggs)?;
        let table = GroupOrderedTable {
            input,
            partition_by,
            boundary,
            aggs,
            dense_ids: true,
        };
        Ok(Self::new(table, schema))
    }

    /// Lets the group ids only rise, not count from 1 (see `dense_ids`).
    pub fn with_rising_ids(self) -> Self {
        let schema = TableProvider::schema(&self);
        let mut table = self.into_inner();
        table.dense_ids = false;
        Self::new(table, schema)
    }
}

impl GroupOrderedTable {
    pub fn input(&self) -> &InputTable {
        &self.input.table
    }

    /// As a logical node's spec, when the input is in stored order (the ordinal is the
    /// required order); None for an input ordered by its view's `ORDER BY`.
    pub fn node_spec(&self) -> Option<GroupOrderedSpec> {
        let ordinal = self.input.ordinal.clone()?;
        Some(GroupOrderedSpec {
            partition_by: self.partition_by.clone(),
            boundary: self.boundary.clone(),
            aggs: self.aggs.clone(),
            input_order: vec![ordinal],
        })
    }
}

#[async_trait]
impl OperatorTable for GroupOrderedTable {
    const WHO: &'static str = NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let functions = Functions::of_session(scan.session);
        let needed = read_columns(
            &self.partition_by,
            &self.boundary,
            &self.aggs,
            &self.input.table.schema,
            &functions,
        )?
        .iter()
        .map(|n| self.input.table.index_of(n, NAME))
        .collect::<Result<Vec<_>>>()?;
        // Stored order, and a reader that does not need the 1-based group ids: each
        // partition of ltseq's ordered source is a consecutive range; group them in parallel.
        let wants_ids = scan.wanted.contains(&0);
        let parallel = (!wants_ids || !self.dense_ids) && self.boundary.lookbehind() <= 1;
        let (plan, order) = self
            .input
            .read(scan.session, &needed, parallel, NAME)
            .await?;
        let spec = GroupOrderedExecSpec {
            layout: Layout::hidden(&plan, order, scan.session),
            partition_by: self.partition_by.clone(),
            boundary: self.boundary.clone(),
            aggs: self.aggs.clone(),
            parallel_ids: wants_ids,
        };
        let exec = GroupOrderedExec::with_functions(spec, vec![plan], true, &functions)?;
        Ok(Arc::new(exec))
    }
}

/// A scan of a `GroupOrdered` table (the DSL's over a stored table, or a Rust SQL table
/// function's) as the `LtseqGroupOrdered` node over a scan of its input.
pub(super) fn rewrite_scan(
    scan: &TableScan,
    provider: &dyn TableProvider,
    session: &dyn Session,
) -> Result<Option<LogicalPlan>> {
    let any = provider as &dyn std::any::Any;
    let (spec, input) = if let Some(table) = any.downcast_ref::<GroupOrderedTableProvider>() {
        // Stored order only: a view's ORDER BY is not a requirement the node can state.
        let Some(spec) = table.node_spec() else {
            return Ok(None);
        };
        if table.input.table.resolve(session, NAME)?.table_type() == TableType::View {
            // A view's plan would be planned here without the host's analyzer: keep the
            // provider route (the host plans the view).
            return Ok(None);
        }
        (spec, table.input.table.clone())
    } else if let Some(table) = any.downcast_ref::<super::sql::GroupOrderedSqlProvider>() {
        (table.node_spec(), table.input().clone())
    } else {
        return Ok(None);
    };
    let functions = Functions::of_session(session);
    let mut columns = spec
        .columns(&input.schema, &functions)?
        .iter()
        .map(|n| input.index_of(n, NAME))
        .collect::<Result<Vec<usize>>>()?;
    columns.sort_unstable();
    let plan = input_scan(session, &input, columns, NAME)?;
    let node = GroupOrderedNode::try_new(plan, spec)?;
    let names: Vec<String> = provider
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Ok(Some(scan_as_node(scan, Arc::new(node), &names)?))
}
