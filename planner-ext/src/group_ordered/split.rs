//! A group-split predicate evaluated inside the `GroupOrdered` operator: a SQL condition over
//! the input columns and over lags of them (the value of a column `offset` rows earlier in
//! sequence order), such as `userid <> lag_userid OR eventtime - lag_eventtime > 1800`.
//!
//! The lags are not materialized: within a batch, the lag of a column by `j` rows is the same
//! column sliced `j` rows earlier, so the condition runs on zero-copy slices (DataFusion's own
//! vectorized kernels). Only the first `k` rows of a batch (`k` = the largest offset) read the
//! `k` rows carried over from the previous batch; before the first row of the sequence a lag
//! is NULL.

use std::sync::Arc;

use datafusion::arrow::array::BooleanBufferBuilder;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{concat, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::ExprSchemable;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use serde::{Deserialize, Serialize};

use crate::ordered::Functions;

/// The column `name`: the value of `column` `offset` rows earlier (`offset >= 1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct Lag {
    pub column: String,
    pub offset: usize,
    pub name: String,
}

/// A split condition: SQL text over the input columns and the `lags`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct SplitPredicate {
    pub sql: String,
    pub lags: Vec<Lag>,
}

/// The compiled condition over one input schema.
#[derive(Debug, Clone)]
pub struct CompiledSplit {
    expr: Arc<dyn PhysicalExpr>,
    /// The input fields, then one field per lag.
    schema: SchemaRef,
    /// Per lag: (input column index, offset).
    lags: Vec<(usize, usize)>,
    /// The largest offset.
    k: usize,
}

impl SplitPredicate {
    /// The largest lag offset (0 without lags).
    pub fn max_offset(&self) -> usize {
        self.lags.iter().map(|l| l.offset).max().unwrap_or(0)
    }

    fn eval_schema(&self, input: &Schema) -> Result<(SchemaRef, Vec<(usize, usize)>)> {
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut lags = Vec::with_capacity(self.lags.len());
        for lag in &self.lags {
            if lag.offset == 0 {
                return Err(DataFusionError::Plan(format!(
                    "split predicate: the lag {:?} needs an offset of at least 1",
                    lag.name
                )));
            }
            if input.index_of(&lag.name).is_ok() || fields.iter().any(|f| f.name() == &lag.name) {
                return Err(DataFusionError::Plan(format!(
                    "split predicate: the lag name {:?} is already a column",
                    lag.name
                )));
            }
            let index = input.index_of(&lag.column).map_err(|_| {
                DataFusionError::Plan(format!(
                    "split predicate: no input column named {:?} (for the lag {:?})",
                    lag.column, lag.name
                ))
            })?;
            fields.push(Field::new(
                &lag.name,
                input.field(index).data_type().clone(),
                true,
            ));
            lags.push((index, lag.offset));
        }
        Ok((Arc::new(Schema::new(fields)), lags))
    }

    /// Compiles the condition over `input` (it must be BOOLEAN), with DataFusion's built-in
    /// functions and those of `functions` (the session's); also returns the input columns it
    /// reads, lag sources included.
    pub fn compile(
        &self,
        input: &Schema,
        functions: &Functions,
    ) -> Result<(CompiledSplit, Vec<String>)> {
        let (schema, lags) = self.eval_schema(input)?;
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let state = functions.state();
        let logical = state
            .create_logical_expr(&self.sql, &df_schema)
            .map_err(|e| DataFusionError::Plan(format!("split predicate {:?}: {e}", self.sql)))?;
        let data_type = logical.get_type(&df_schema)?;
        if !matches!(data_type, DataType::Boolean | DataType::Null) {
            return Err(DataFusionError::Plan(format!(
                "split predicate {:?} must be BOOLEAN, got {data_type}",
                self.sql
            )));
        }
        let lag_names: Vec<&str> = self.lags.iter().map(|l| l.name.as_str()).collect();
        let mut columns: Vec<String> = logical
            .column_refs()
            .into_iter()
            .map(|c| c.name.clone())
            .filter(|n| !lag_names.contains(&n.as_str()))
            .collect();
        columns.extend(self.lags.iter().map(|l| l.column.clone()));
        columns.sort();
        columns.dedup();
        // Simplified (as a query's expressions are: coalesce becomes CASE, constants fold),
        // then planned with type coercion.
        let simplifier = ExprSimplifier::new(
            SimplifyContext::builder()
                .with_schema(Arc::new(df_schema.clone()))
                .build(),
        );
        let logical = simplifier.simplify(simplifier.coerce(logical, &df_schema)?)?;
        let expr = state.create_physical_expr(logical, &df_schema)?;
        let k = self.max_offset();
        Ok((
            CompiledSplit {
                expr,
                schema,
                lags,
                k,
            },
            columns,
        ))
    }
}

impl CompiledSplit {
    /// How many rows before a row the condition reads.
    pub fn lookbehind(&self) -> usize {
        self.k
    }

    /// The condition (NULL as false) at rows `start..start + len` of `data`, a lag reading
    /// before row 0 as NULL.
    fn eval(&self, data: &RecordBatch, start: usize, len: usize) -> Result<BooleanBuffer> {
        let mut columns: Vec<ArrayRef> =
            data.columns().iter().map(|c| c.slice(start, len)).collect();
        for &(source, offset) in &self.lags {
            let column = data.column(source);
            let array = if start >= offset {
                column.slice(start - offset, len)
            } else {
                let pad = (offset - start).min(len);
                let nulls = new_null_array(column.data_type(), pad);
                if pad == len {
                    nulls
                } else {
                    concat(&[nulls.as_ref(), column.slice(0, len - pad).as_ref()])?
                }
            };
            columns.push(array);
        }
        let batch = RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(len)),
        )?;
        let value = self.expr.evaluate(&batch)?.into_array(len)?;
        if value.data_type() == &DataType::Null {
            return Ok(BooleanBuffer::new_unset(len));
        }
        let flags = value.as_boolean_opt().ok_or_else(|| {
            DataFusionError::Internal("split predicate: the condition is not BOOLEAN".into())
        })?;
        Ok(match flags.nulls() {
            Some(nulls) => flags.values() & nulls.inner(),
            None => flags.values().clone(),
        })
    }

    /// The condition at every row of `batch`, whose lags before its first row read `carry`
    /// (the rows just before it, at most `k`; fewer at the start of the sequence). Returns
    /// the flags and the carry for the next batch.
    pub fn flags(
        &self,
        batch: &RecordBatch,
        carry: Option<RecordBatch>,
    ) -> Result<(BooleanBuffer, Option<RecordBatch>)> {
        let (n, k) = (batch.num_rows(), self.k);
        let mut out = BooleanBufferBuilder::new(n);
        let head = n.min(k);
        let carried = carry.as_ref().map_or(0, |c| c.num_rows());
        let mut joined = None;
        if head > 0 {
            // The first rows read the carried ones: a small batch of both.
            let data = match &carry {
                Some(c) if carried > 0 => {
                    concat_batches(&batch.schema(), [c, &batch.slice(0, head)])?
                }
                _ => batch.slice(0, head),
            };
            out.append_buffer(&self.eval(&data, data.num_rows() - head, head)?);
            joined = Some(data);
        }
        if n > k {
            out.append_buffer(&self.eval(batch, k, n - k)?);
        }
        let next = if k == 0 {
            None
        } else if n >= k {
            Some(batch.slice(n - k, k))
        } else {
            // A batch shorter than k: the carry is the last k rows of (carry, batch).
            joined.map(|d| {
                let keep = d.num_rows().min(k);
                d.slice(d.num_rows() - keep, keep)
            })
        };
        Ok((out.finish(), next.or(carry.filter(|_| n == 0))))
    }
}
