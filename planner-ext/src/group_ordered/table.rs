//! The `GroupOrdered` operator over a named input table, as a table (the table-provider route
//! the DSL uses); the input delivers its rows in sequence order (a view ending in `ORDER BY`,
//! or ltseq's stored order, read partition by partition or in parallel).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{LogicalPlan, TableScan};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::exec::{GroupOrderedExec, GroupOrderedExecSpec};
use super::node::GroupOrderedNode;
use super::spec::{group_ordered_schema, read_columns, AggCall, Boundary, GroupOrderedSpec, NAME};
use crate::ordered::input::read_ordered;
use crate::ordered::provider::project;
use crate::ordered::rewrite::{input_scan, scan_as_node};
use crate::ordered::{Functions, InputOrder, InputTable, OperatorProvider, OperatorTable};

/// The DSL's `GroupOrdered` table.
#[derive(Debug)]
pub struct GroupOrderedTable {
    input: InputTable,
    ordinal: Option<String>,
    partition_by: Vec<String>,
    boundary: Boundary,
    aggs: Vec<AggCall>,
    /// The group ids must be 1-based and consecutive (else, for stored-order input, they
    /// may only rise, and the partitions are grouped in parallel).
    dense_ids: bool,
    schema: SchemaRef,
}

/// The DSL's `GroupOrdered` table as a `TableProvider`.
pub type GroupOrderedTableProvider = OperatorProvider<GroupOrderedTable>;

impl OperatorProvider<GroupOrderedTable> {
    /// `ordinal`: the input is in stored order, ascending in this column; else it is one
    /// ordered partition.
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: Option<String>,
        partition_by: Vec<String>,
        boundary: Boundary,
        aggs: Vec<AggCall>,
    ) -> Result<Self> {
        let schema = group_ordered_schema(&input_schema, &aggs)?;
        Ok(Self::new(GroupOrderedTable {
            input: InputTable::new(input_name, input_schema),
            ordinal,
            partition_by,
            boundary,
            aggs,
            dense_ids: true,
            schema,
        }))
    }

    /// Lets the group ids only rise, not count from 1 (see `dense_ids`).
    pub fn with_rising_ids(self) -> Self {
        let mut table = self.into_inner();
        table.dense_ids = false;
        Self::new(table)
    }
}

impl GroupOrderedTable {
    pub fn input(&self) -> &InputTable {
        &self.input
    }

    /// As a logical node's spec, when the input is in stored order (the ordinal is the
    /// required order); None for an input ordered by its view's `ORDER BY`.
    pub fn node_spec(&self) -> Option<GroupOrderedSpec> {
        let ordinal = self.ordinal.clone()?;
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
        let functions = Functions::of_session(session);
        let needed = read_columns(
            &self.partition_by,
            &self.boundary,
            &self.aggs,
            &self.input.schema,
            &functions,
        )?
        .iter()
        .map(|n| self.input.index_of(n, NAME))
        .collect::<Result<Vec<_>>>()?;
        // Stored order, and a reader that does not need the 1-based group ids: each
        // partition of ltseq's ordered source is a consecutive range; group them in parallel.
        let wants_ids = projection.is_none_or(|p| p.contains(&0));
        let parallel = (!wants_ids || !self.dense_ids) && self.boundary.lookbehind() <= 1;
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
        let spec = GroupOrderedExecSpec {
            order,
            partition_by: self.partition_by.clone(),
            boundary: self.boundary.clone(),
            aggs: self.aggs.clone(),
            required_order: vec![],
            output_partitions,
            parallel_ids: wants_ids,
        };
        let exec = GroupOrderedExec::with_functions(spec, vec![plan], true, &functions)?;
        project(Arc::new(exec), projection)
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
        if table.input.resolve(session, NAME)?.table_type() == TableType::View {
            // A view's plan would be planned here without the host's analyzer: keep the
            // provider route (the host plans the view).
            return Ok(None);
        }
        (spec, table.input.clone())
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
