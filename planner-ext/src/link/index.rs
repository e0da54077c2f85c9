//! The target index of a link: the target read once, its fetched columns, and its keys
//! ([`KeyIds`]: a direct-address table for one dense integer key, a hash map for a sparse one,
//! a hash map over arrow's row format for any other key), each key's one row.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::{filter, filter_record_batch, take};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;

use super::spec::{LinkJoin, LinkSpec, NAME};
use crate::ordered::build_side::{fetched_columns, read_whole};
use crate::ordered::guard::no_panic;
use crate::ordered::keys::{cast_keys, KeyIds, ABSENT};
use crate::ordered::memory::{array_bytes, Held};

/// The target, read once: the fetched columns and the key index.
pub struct TargetIndex {
    columns: Vec<ArrayRef>,
    keys: KeyIds,
    /// The target row of each key id (the keys are unique).
    rows: Vec<u32>,
    /// The index's bytes in the memory pool, while it lives.
    held: Option<Held>,
}

fn duplicate_error(
    spec: &LinkSpec,
    keys: &[ArrayRef],
    first: usize,
    second: usize,
) -> DataFusionError {
    let values: Vec<String> = keys
        .iter()
        .map(|k| {
            ScalarValue::try_from_array(k, second)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| "?".into())
        })
        .collect();
    let (names, values) = if keys.len() == 1 {
        (spec.target_keys[0].clone(), values[0].clone())
    } else {
        (
            format!("({})", spec.target_keys.join(", ")),
            format!("({})", values.join(", ")),
        )
    };
    DataFusionError::Execution(format!(
        "ltseq link: the target key {names} = {values} occurs more than once (target rows {} and {}); \
         a link points at one row, so its target key must be unique (one-to-many is a join)",
        first + 1,
        second + 1
    ))
}

impl TargetIndex {
    /// Indexes `batch` (the whole target): `keys` are its key columns, `columns` the fetched ones.
    fn build(
        spec: &LinkSpec,
        key_types: &[DataType],
        keys: &[ArrayRef],
        columns: Vec<ArrayRef>,
        rows: usize,
    ) -> Result<Self> {
        let (ids, row_ids) = KeyIds::build(key_types, keys, rows)?;
        let mut first = Vec::with_capacity(ids.distinct());
        for (i, &id) in row_ids.iter().enumerate().filter(|(_, &id)| id != ABSENT) {
            if id as usize == first.len() {
                first.push(i as u32);
            } else {
                let keys = cast_keys(keys, key_types)?;
                return Err(duplicate_error(spec, &keys, first[id as usize] as usize, i));
            }
        }
        Ok(Self {
            columns,
            keys: ids,
            rows: first,
            held: None,
        })
    }

    /// The bytes the index holds: its columns and its lookup structure.
    fn bytes(&self) -> usize {
        let columns: usize = self.columns.iter().map(|c| array_bytes(c.as_ref())).sum();
        columns + self.keys.bytes() + self.rows.capacity() * 4
    }

    /// The target row of each source row (NULL: no match, or a NULL key).
    fn positions(&self, keys: &[ArrayRef]) -> Result<UInt32Array> {
        let ids = self.keys.probe(keys)?;
        if ids.iter().all(|&id| id != ABSENT) {
            // Every row matched: no null buffer, so `take` runs its no-null path.
            let values: Vec<u32> = ids.iter().map(|&id| self.rows[id as usize]).collect();
            return Ok(UInt32Array::new(values.into(), None));
        }
        let found: Vec<bool> = ids.iter().map(|&id| id != ABSENT).collect();
        let values: Vec<u32> = ids
            .iter()
            .map(|&id| {
                if id == ABSENT {
                    0
                } else {
                    self.rows[id as usize]
                }
            })
            .collect();
        let nulls = NullBuffer::new(BooleanBuffer::from(found));
        Ok(UInt32Array::new(values.into(), Some(nulls)))
    }

    /// The output batch for one source batch.
    pub(super) fn link(
        &self,
        batch: &RecordBatch,
        key_columns: &[usize],
        join: LinkJoin,
        schema: &SchemaRef,
    ) -> Result<RecordBatch> {
        let keys: Vec<ArrayRef> = key_columns
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect();
        let mut positions = self.positions(&keys)?;
        let mut source = batch.clone();
        if join == LinkJoin::Inner && positions.null_count() > 0 {
            let matched = BooleanArray::new(
                positions
                    .nulls()
                    .map(|n| n.inner().clone())
                    .unwrap_or_else(|| BooleanBuffer::new_set(positions.len())),
                None,
            );
            source = filter_record_batch(batch, &matched)?;
            positions = filter(&positions, &matched)?.as_primitive().clone();
        }
        let mut columns = source.columns().to_vec();
        for c in &self.columns {
            columns.push(take(c.as_ref(), &positions, None)?);
        }
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}

/// Reads the whole target (every partition, one after another) and indexes it.
pub(super) async fn build_index(
    target: Arc<dyn ExecutionPlan>,
    spec: LinkSpec,
    key_types: Vec<DataType>,
    context: Arc<TaskContext>,
) -> Result<TargetIndex> {
    let schema = target.schema();
    let (all, mut held) = read_whole(NAME, target, context).await?;
    let keys = spec
        .target_keys
        .iter()
        .map(|k| Ok(Arc::clone(all.column(schema.index_of(k)?))))
        .collect::<Result<Vec<_>>>()?;
    let columns = fetched_columns(&all, &spec.fetch)?;
    let mut index = no_panic(NAME, || {
        TargetIndex::build(&spec, &key_types, &keys, columns, all.num_rows())
    })?;
    drop(all);
    held.set(index.bytes())?;
    index.held = Some(held);
    Ok(index)
}

impl fmt::Debug for TargetIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TargetIndex({} columns)", self.columns.len())
    }
}
