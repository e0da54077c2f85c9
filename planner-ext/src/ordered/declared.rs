//! Tables whose order is declared to DataFusion: in-memory data known to be sorted, registered
//! as a `MemTable` with its sort order, so that DataFusion (and ltseq's operators, which read
//! a plan's declared order) skip the sort. The order is checked once, when the table is made:
//! data out of order is an error naming the first row out of place, never a wrong answer.
//!
//! Its scans are a `DataSourceExec` under a [`HiddenPlanExec`]: DataFusion's protobuf writes a
//! memory scan by value (every batch copied as Arrow IPC, and, in 55.2, a projected scan with a
//! sort order fails to read back), and plans cross the FFI as protobuf.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use super::hidden::HiddenPlanExec;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::catalog::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{col, SortExpr};

/// A memory table of `batches` (in this order), split into at most `partitions` consecutive
/// ranges, declared sorted by `order_by` (ascending, NULLs last); `who` names the caller in
/// errors. Errors when the rows are not in that order.
pub fn ordered_memory_table(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    order_by: &[String],
    partitions: usize,
    who: &str,
) -> Result<OrderedMemoryTable> {
    if order_by.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{who}: give at least one order column"
        )));
    }
    let columns = order_by
        .iter()
        .map(|name| {
            schema.index_of(name).map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                DataFusionError::Plan(format!(
                    "{who}: no column {name:?} to order by (columns: {})",
                    names.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    check_order(&schema, &batches, &columns, order_by, who)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let per_partition = rows.div_ceil(partitions.max(1)).max(1);
    let mut parts: Vec<Vec<RecordBatch>> = vec![vec![]];
    let mut in_part = 0;
    for batch in batches {
        let mut offset = 0;
        while offset < batch.num_rows() {
            if in_part == per_partition {
                parts.push(vec![]);
                in_part = 0;
            }
            let take = (per_partition - in_part).min(batch.num_rows() - offset);
            if let Some(part) = parts.last_mut() {
                part.push(batch.slice(offset, take));
            }
            offset += take;
            in_part += take;
        }
    }
    let sort: Vec<SortExpr> = order_by
        .iter()
        .map(|name| col(datafusion::common::Column::from_name(name)).sort(true, false))
        .collect();
    Ok(OrderedMemoryTable(
        MemTable::try_new(schema, parts)?.with_sort_order(vec![sort]),
    ))
}

/// A memory table with a declared order (see the module doc).
#[derive(Debug)]
pub struct OrderedMemoryTable(pub MemTable);

#[async_trait]
impl TableProvider for OrderedMemoryTable {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = self.0.scan(state, projection, filters, limit).await?;
        Ok(Arc::new(HiddenPlanExec::new(scan)))
    }
}

/// Checks that the rows of `batches`, read one after another, rise (or stay equal) in the
/// columns `columns` (ascending, NULLs last).
fn check_order(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    columns: &[usize],
    names: &[String],
    who: &str,
) -> Result<()> {
    let options = SortOptions {
        descending: false,
        nulls_first: false,
    };
    let fields = columns
        .iter()
        .map(|&i| SortField::new_with_options(schema.field(i).data_type().clone(), options))
        .collect();
    let converter = RowConverter::new(fields)?;
    let mut last: Option<OwnedRow> = None;
    let mut seen = 0usize;
    let mut last_values: Vec<String> = vec![];
    for batch in batches {
        let arrays: Vec<_> = columns
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect();
        let rows = converter.convert_columns(&arrays)?;
        for i in 0..rows.num_rows() {
            let out_of_order = if i > 0 {
                rows.row(i - 1) > rows.row(i)
            } else {
                last.as_ref().is_some_and(|p| p.row() > rows.row(0))
            };
            if out_of_order {
                let before = if i > 0 {
                    shown(&arrays, i - 1)
                } else {
                    last_values
                };
                return Err(DataFusionError::Plan(format!(
                    "{who}: the rows are not in order by ({}): row {} has ({}) after ({})",
                    names.join(", "),
                    seen + i,
                    shown(&arrays, i).join(", "),
                    before.join(", ")
                )));
            }
        }
        if rows.num_rows() > 0 {
            let end = rows.num_rows() - 1;
            last = Some(rows.row(end).owned());
            last_values = shown(&arrays, end);
        }
        seen += rows.num_rows();
    }
    Ok(())
}

/// The values of row `at` of `arrays`, as an error shows them.
fn shown(arrays: &[ArrayRef], at: usize) -> Vec<String> {
    arrays
        .iter()
        .map(|a| {
            if a.is_null(at) {
                "NULL".to_string()
            } else {
                array_value_to_string(a, at).unwrap_or_default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn batch(k: Vec<Option<&str>>, v: Vec<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("v", DataType::Int64, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(k)),
                Arc::new(Int64Array::from(v)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn accepts_rows_in_order_and_splits_them_into_ranges() {
        let a = batch(vec![Some("a"), Some("a"), Some("b")], vec![1, 2, 1]);
        let b = batch(vec![Some("b"), None], vec![1, 0]);
        let order = ["k".to_string(), "v".to_string()];
        let table = ordered_memory_table(a.schema(), vec![a, b], &order, 2, "t").unwrap();
        let parts = &table.0.batches;
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn names_the_first_row_out_of_order_across_batches() {
        let a = batch(vec![Some("a"), Some("b")], vec![1, 5]);
        let b = batch(vec![Some("b"), Some("c")], vec![4, 0]);
        let order = ["k".to_string(), "v".to_string()];
        let err = ordered_memory_table(a.schema(), vec![a, b], &order, 1, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2 has (b, 4) after (b, 5)"), "{err}");
        let a = batch(vec![None, Some("a")], vec![1, 1]);
        let err = ordered_memory_table(a.schema(), vec![a], &order[..1], 1, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 1 has (a) after (NULL)"), "{err}");
        let a = batch(vec![Some("a")], vec![1]);
        let err = ordered_memory_table(a.schema(), vec![a], &["zz".to_string()], 1, "t")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no column \"zz\" to order by (columns: k, v)"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod in_a_session {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionConfig;

    #[tokio::test]
    async fn datafusion_keeps_the_declared_order_instead_of_sorting() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("w", DataType::Int64, false),
            Field::new("u", DataType::Int64, true),
            Field::new("e", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(Int64Array::from(vec![Some(1), Some(1), Some(2), None])),
                Arc::new(Int64Array::from(vec![1, 3, 1, 7])),
            ],
        )
        .unwrap();
        let order = ["u".to_string(), "e".to_string()];
        let table = ordered_memory_table(schema, vec![batch], &order, 1, "t").unwrap();
        let ctx = crate::session_context_with_ltseq(SessionConfig::new().with_target_partitions(2))
            .unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        let q = "SELECT w, e - lag(e) OVER (PARTITION BY u ORDER BY e) AS d FROM t";
        let plan = ctx.sql(&format!("EXPLAIN {q}")).await.unwrap();
        let plan =
            datafusion::arrow::util::pretty::pretty_format_batches(&plan.collect().await.unwrap())
                .unwrap()
                .to_string();
        assert!(!plan.contains("SortExec"), "{plan}");
        let rows = ctx
            .sql(&format!("SELECT count(d) AS n, sum(d) AS s FROM ({q}) x"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
            .unwrap()
            .to_string();
        assert!(text.contains("| 1 | 2 |"), "{text}");
    }
}
