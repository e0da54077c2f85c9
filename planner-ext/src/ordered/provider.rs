//! [`OperatorProvider`]: the one `TableProvider` skeleton of ltseq's operators (the
//! table-provider route). An operator's table is an [`OperatorTable`]: its schema and a scan
//! that builds the operator over its inputs, which it looks up by name in the scanning session.
//! The skeleton adds what every such table does the same way: it is a view (filters run above
//! it, never inside, so the operator always sees every input row), and its scan cannot panic.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

use super::catalog::InputTable;
use super::exec::Plan;
use super::guard::no_panic_async;

/// What a scan of an operator's table asks for.
#[derive(Clone, Copy)]
pub struct Scan<'a> {
    /// The scanning session (where the inputs are looked up).
    pub session: &'a dyn Session,
    /// The columns of the table's schema the query reads.
    pub wanted: &'a [usize],
    /// At most this many rows are read, if the operator can stop early.
    pub limit: Option<usize>,
}

impl Scan<'_> {
    /// `input`'s plan for all its columns, in this scan's session.
    pub async fn all(&self, input: &InputTable, who: &str) -> Result<Arc<dyn ExecutionPlan>> {
        input.scan_all(self.session, who).await
    }
}

/// An operator as a table.
#[async_trait]
pub trait OperatorTable: fmt::Debug + Send + Sync + 'static {
    /// Names the table in errors (`ltseq_link`, `LtseqWindowExec`, ...).
    const WHO: &'static str;

    /// The operator over its inputs, producing (at least) the columns `scan.wanted` of the
    /// table's schema, named as there, in any order.
    async fn operator(&self, scan: Scan<'_>) -> Result<Plan>;
}

/// An [`OperatorTable`] as a DataFusion `TableProvider`.
#[derive(Debug)]
pub struct OperatorProvider<T: OperatorTable> {
    table: T,
    schema: SchemaRef,
}

impl<T: OperatorTable> OperatorProvider<T> {
    pub fn new(table: T, schema: SchemaRef) -> Self {
        Self { table, schema }
    }

    pub fn table(&self) -> &T {
        &self.table
    }

    pub fn into_inner(self) -> T {
        self.table
    }
}

impl<T: OperatorTable> Deref for OperatorProvider<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.table
    }
}

#[async_trait]
impl<T: OperatorTable> TableProvider for OperatorProvider<T> {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        None
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Filters run above the operator: it must see every input row.
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let names: Vec<String> = wanted
            .iter()
            .map(|&i| self.schema.field(i).name().clone())
            .collect();
        let scan = Scan {
            session,
            wanted: &wanted,
            limit,
        };
        let exec = no_panic_async(T::WHO, self.table.operator(scan)).await?;
        project_names(exec, &names)
    }
}

/// `exec` with its output columns reduced and reordered to `projection` (indices into its
/// schema); `exec` itself when that is all columns in order.
pub fn project(
    exec: Arc<dyn ExecutionPlan>,
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = exec.schema();
    match projection {
        Some(p)
            if !(p.len() == schema.fields().len()
                && p.iter().enumerate().all(|(i, &j)| i == j)) =>
        {
            let exprs = p
                .iter()
                .map(|&i| {
                    let name = schema.field(i).name().clone();
                    (
                        Arc::new(Column::new(&name, i)) as Arc<dyn PhysicalExpr>,
                        name,
                    )
                })
                .collect::<Vec<_>>();
            Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
        }
        _ => Ok(exec),
    }
}

/// `exec` with the columns `names` (of `exec`'s schema), in that order.
pub fn project_names(
    exec: Arc<dyn ExecutionPlan>,
    names: &[String],
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = exec.schema();
    let positions = names
        .iter()
        .map(|n| Ok(schema.index_of(n)?))
        .collect::<Result<Vec<usize>>>()?;
    project(exec, Some(&positions))
}
