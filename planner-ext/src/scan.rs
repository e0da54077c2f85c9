//! `ltseq_sequence('table' [, 'ordinal_column'])`: the SQL surface of the `Sequence` operator,
//! as a table function whose provider scans its input inside a [`SequenceExec`].

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::TableReference;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;

use crate::guard::no_panic;
use crate::sequence::{sequence_schema, SequenceExec, DEFAULT_ORDINAL_COLUMN};
use crate::sql_args::text_arg;

/// The table function's SQL name.
pub const SEQUENCE_FUNCTION_NAME: &str = "ltseq_sequence";

/// `ltseq_sequence('table' [, 'ordinal_column'])`.
#[derive(Debug, Default)]
pub struct SequenceTableFunction;

/// Finds a table, view or in-memory table by name in the session's catalogs; `who` names the
/// operator asking, for the error message.
pub fn lookup_table(
    session: &dyn Session,
    name: &str,
    who: &str,
) -> Result<Arc<dyn TableProvider>> {
    let options = &session.config_options().catalog;
    let reference = TableReference::parse_str(name);
    let resolved = reference
        .clone()
        .resolve(&options.default_catalog, &options.default_schema);
    let not_found = || {
        DataFusionError::Plan(format!(
            "{who}: table '{name}' not found in the session catalog (ltseq removes the tables it \
             registered when no LTSeq uses them any more; DataFrames from LTSeq.to_datafusion() keep \
             theirs)"
        ))
    };
    let catalog = session
        .catalog_list()
        .catalog(&resolved.catalog)
        .ok_or_else(not_found)?;
    let schema = catalog.schema(&resolved.schema).ok_or_else(not_found)?;
    let table = futures::executor::block_on(schema.table(&resolved.table))?;
    table.ok_or_else(not_found)
}

impl TableFunctionImpl for SequenceTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        no_panic(SEQUENCE_FUNCTION_NAME, || {
            let exprs = args.exprs();
            if exprs.is_empty() || exprs.len() > 2 {
                return Err(DataFusionError::Plan(format!(
                    "{SEQUENCE_FUNCTION_NAME} expects 1 or 2 arguments: \
                     {SEQUENCE_FUNCTION_NAME}('table' [, 'ordinal_column']), got {}",
                    exprs.len()
                )));
            }
            let table = text_arg(SEQUENCE_FUNCTION_NAME, &exprs[0], 1)?;
            let ordinal = match exprs.get(1) {
                Some(e) => text_arg(SEQUENCE_FUNCTION_NAME, e, 2)?,
                None => DEFAULT_ORDINAL_COLUMN.to_string(),
            };
            // Only the schema is kept: a provider handed out by a foreign session's catalog
            // must not outlive the call that produced it, so `scan` looks the input up again.
            let input_schema =
                lookup_table(args.session(), &table, SEQUENCE_FUNCTION_NAME)?.schema();
            Ok(Arc::new(SequenceTableProvider::try_new(
                table,
                input_schema,
                ordinal,
            )?) as Arc<dyn TableProvider>)
        })
    }
}

/// The provider behind `ltseq_sequence(...)`: the input's columns plus the ordinal.
#[derive(Debug)]
pub struct SequenceTableProvider {
    input_name: String,
    input_schema: SchemaRef,
    ordinal: String,
    schema: SchemaRef,
}

impl SequenceTableProvider {
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: impl Into<String>,
    ) -> Result<Self> {
        let ordinal = ordinal.into();
        let schema = sequence_schema(input_schema.as_ref(), &ordinal)?;
        Ok(Self {
            input_name: input_name.into(),
            input_schema,
            ordinal,
            schema,
        })
    }

    pub fn input_name(&self) -> &str {
        &self.input_name
    }

    pub fn input_schema(&self) -> &SchemaRef {
        &self.input_schema
    }

    pub fn ordinal(&self) -> &str {
        &self.ordinal
    }

    /// The input table, looked up in `session`'s catalog; it must still have the schema it had
    /// when the query was planned.
    pub fn resolve_input(&self, session: &dyn Session) -> Result<Arc<dyn TableProvider>> {
        let input = lookup_table(session, &self.input_name, SEQUENCE_FUNCTION_NAME)?;
        if input.schema().fields() != self.input_schema.fields() {
            return Err(DataFusionError::Plan(format!(
                "{SEQUENCE_FUNCTION_NAME}: table '{}' changed its schema since the query was planned",
                self.input_name
            )));
        }
        Ok(input)
    }
}

#[async_trait]
impl TableProvider for SequenceTableProvider {
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
        // Filters run above the operator, so the ordinals always count the same input rows.
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
        let n_input = self.input_schema.fields().len();
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..=n_input).collect(),
        };
        // Read only the input columns the query needs.
        let mut input_columns: Vec<usize> =
            wanted.iter().copied().filter(|&i| i < n_input).collect();
        input_columns.sort_unstable();
        input_columns.dedup();
        let input_plan = {
            let input = self.resolve_input(session)?;
            input
                .scan(session, Some(&input_columns), &[], limit)
                .await?
        };
        // The host's optimizer never sees the hidden input, so split a file scan into byte
        // ranges here: partition p reads the p-th range, so ordinals still follow file order.
        let config = session.config_options();
        let target = config.execution.target_partitions;
        let input_plan = if config.optimizer.repartition_file_scans && target > 1 {
            input_plan
                .repartitioned(target, config)?
                .unwrap_or(input_plan)
        } else {
            input_plan
        };
        let exec: Arc<dyn ExecutionPlan> = Arc::new(SequenceExec::try_new(
            input_plan,
            self.ordinal.clone(),
            true,
        )?);
        // Reorder to the requested projection (the ordinal sits after the input columns).
        let exec_schema = exec.schema();
        let exprs = wanted
            .iter()
            .map(|&i| {
                let pos = if i < n_input {
                    input_columns.iter().position(|&c| c == i).ok_or_else(|| {
                        DataFusionError::Internal("ltseq_sequence: projection mismatch".into())
                    })?
                } else {
                    input_columns.len()
                };
                let name = exec_schema.field(pos).name().clone();
                Ok((Arc::new(Column::new(&name, pos)) as _, name))
            })
            .collect::<Result<Vec<_>>>()?;
        let identity = exprs.len() == exec_schema.fields().len()
            && exprs
                .iter()
                .enumerate()
                .all(|(i, (_, name))| exec_schema.field(i).name() == name);
        if identity {
            return Ok(exec);
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
    }
}
