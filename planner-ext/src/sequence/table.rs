//! The `Sequence` operator as a table: `ltseq_sequence('table' [, 'ordinal_column'])` in Rust
//! sessions, `ltseq.register_sequence(...)` in a stock Python context.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, TableScan};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exec::{sequence_schema, SequenceExec, DEFAULT_ORDINAL_COLUMN};
use super::node::SequenceNode;
use crate::ordered::registry::ProviderCodec;
use crate::ordered::rewrite::{input_scan, scan_as_node, wanted};
use crate::ordered::sql_args::{arity, text_arg, text_arg_opt};
use crate::ordered::{InputTable, OperatorProvider, OperatorTable, Plan, Scan, Tables};

/// The table function's SQL name.
pub const SEQUENCE_FUNCTION_NAME: &str = "ltseq_sequence";

/// The `Sequence` operator over a named input: the input's columns plus the ordinal.
#[derive(Debug)]
pub struct SequenceTable {
    input: InputTable,
    ordinal: String,
    schema: SchemaRef,
}

/// The table behind `ltseq_sequence(...)` and `ltseq.register_sequence(...)`.
pub type SequenceTableProvider = OperatorProvider<SequenceTable>;

impl OperatorProvider<SequenceTable> {
    pub fn try_new(
        input_name: impl Into<String>,
        input_schema: SchemaRef,
        ordinal: impl Into<String>,
    ) -> Result<Self> {
        let ordinal = ordinal.into();
        let schema = sequence_schema(input_schema.as_ref(), &ordinal)?;
        let table = SequenceTable {
            input: InputTable::new(input_name, input_schema),
            ordinal,
            schema: Arc::clone(&schema),
        };
        Ok(Self::new(table, schema))
    }
}

impl SequenceTable {
    /// The input columns among the table's columns `wanted` (the ordinal is the last column).
    fn input_columns(&self, wanted: &[usize]) -> Vec<usize> {
        let n = self.input.schema.fields().len();
        let mut columns: Vec<usize> = wanted.iter().copied().filter(|&i| i < n).collect();
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    fn names(&self, wanted: &[usize]) -> Vec<String> {
        wanted
            .iter()
            .map(|&i| self.schema.field(i).name().clone())
            .collect()
    }
}

#[async_trait]
impl OperatorTable for SequenceTable {
    const WHO: &'static str = SEQUENCE_FUNCTION_NAME;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        // Read only the input columns the query needs.
        let input_plan = self
            .input
            .scan(
                scan.session,
                &self.input_columns(scan.wanted),
                scan.limit,
                SEQUENCE_FUNCTION_NAME,
            )
            .await?;
        // The host's optimizer never sees the hidden input, so split a file scan into byte
        // ranges here: partition p reads the p-th range, so ordinals still follow file order.
        let config = scan.session.config_options();
        let target = config.execution.target_partitions;
        let input_plan = if config.optimizer.repartition_file_scans && target > 1 {
            input_plan
                .repartitioned(target, config)?
                .unwrap_or(input_plan)
        } else {
            input_plan
        };
        Ok(Arc::new(SequenceExec::try_new(
            input_plan,
            self.ordinal.clone(),
            true,
        )?))
    }
}

/// `ltseq_sequence('table' [, 'ordinal_column'])`.
pub(super) fn table_function(args: &[Expr], tables: &dyn Tables) -> Result<Arc<dyn TableProvider>> {
    let who = SEQUENCE_FUNCTION_NAME;
    let exprs = arity(who, args, 1, 2, "'table' [, 'ordinal_column']")?;
    let table = text_arg(who, &exprs[0], 1)?;
    let ordinal =
        text_arg_opt(who, exprs, 2)?.unwrap_or_else(|| DEFAULT_ORDINAL_COLUMN.to_string());
    let input = InputTable::lookup(tables, &table, who)?;
    Ok(Arc::new(SequenceTableProvider::try_new(
        input.name,
        input.schema,
        ordinal,
    )?))
}

/// A scan of a `Sequence` table as the `LtseqSequence` node over a scan of its input.
pub(super) fn rewrite_scan(
    scan: &TableScan,
    provider: &dyn TableProvider,
    session: &dyn Session,
) -> Result<Option<LogicalPlan>> {
    let Some(seq) = (provider as &dyn std::any::Any).downcast_ref::<SequenceTableProvider>() else {
        return Ok(None);
    };
    let names = seq.names(&(0..seq.schema.fields().len()).collect::<Vec<_>>());
    let columns = seq.input_columns(&wanted(scan, names.len()));
    let input = input_scan(session, &seq.input, columns, SEQUENCE_FUNCTION_NAME)?;
    let node = SequenceNode::try_new(input, seq.ordinal.clone())?;
    Ok(Some(scan_as_node(scan, Arc::new(node), &names)?))
}

/// A `Sequence` table in a logical plan, written by value.
#[derive(Serialize, Deserialize)]
struct Written {
    input: String,
    ordinal: String,
}

pub(super) struct SequenceProviderCodec;

pub(super) static PROVIDER_CODEC: SequenceProviderCodec = SequenceProviderCodec;

impl ProviderCodec for SequenceProviderCodec {
    fn name(&self) -> &'static str {
        SEQUENCE_FUNCTION_NAME
    }

    fn encode(&self, provider: &dyn TableProvider) -> Result<Option<Value>> {
        let Some(seq) = (provider as &dyn std::any::Any).downcast_ref::<SequenceTableProvider>()
        else {
            return Ok(None);
        };
        let written = Written {
            input: seq.input.name.clone(),
            ordinal: seq.ordinal.clone(),
        };
        serde_json::to_value(written)
            .map(Some)
            .map_err(|e| DataFusionError::Internal(format!("ltseq codec: {e}")))
    }

    fn decode(&self, spec: Value, schema: SchemaRef) -> Result<Arc<dyn TableProvider>> {
        let written: Written = serde_json::from_value(spec)
            .map_err(|e| DataFusionError::Internal(format!("ltseq codec: {e}")))?;
        // The scan's schema is the input's followed by the ordinal.
        let fields: Vec<_> = schema
            .fields()
            .iter()
            .filter(|f| f.name() != &written.ordinal)
            .cloned()
            .collect();
        let input_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        Ok(Arc::new(SequenceTableProvider::try_new(
            written.input,
            input_schema,
            written.ordinal,
        )?))
    }
}
