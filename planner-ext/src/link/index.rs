//! The target index of a link: the target read once, its fetched columns, and a map from key
//! to row position (a direct-address table for one dense integer key, a hash map for a sparse
//! one, a hash map over arrow's row format for any other key).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::{cast, concat_batches, filter, filter_record_batch, take};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;
use ltseq_udf::run_id::canonical_key;

use super::spec::{gathered_type, LinkJoin, LinkSpec, NAME};
use crate::ordered::guard::no_panic;
use crate::ordered::memory::{array_bytes, batch_bytes, Held};

const ABSENT: u32 = u32::MAX;

enum KeyLookup {
    /// One integer key, values in `min .. min + slots.len()`: the slot holds the row.
    Dense { min: i64, slots: Vec<u32> },
    /// One integer key, sparse.
    Int(HashMap<i64, u32>),
    /// Any other key: the keys in arrow's row format.
    Rows {
        converter: RowConverter,
        map: HashMap<Box<[u8]>, u32>,
    },
}

/// The target, read once: the fetched columns and the key index.
pub struct TargetIndex {
    columns: Vec<ArrayRef>,
    lookup: KeyLookup,
    key_types: Vec<DataType>,
    /// The index's bytes in the memory pool, while it lives.
    held: Option<Held>,
}

fn is_small_int(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

fn cast_keys(keys: &[ArrayRef], types: &[DataType]) -> Result<Vec<ArrayRef>> {
    keys.iter()
        .zip(types)
        .map(|(k, t)| {
            let t = if types.len() == 1 && is_small_int(t) {
                &DataType::Int64
            } else {
                t
            };
            let k = if k.data_type() == t {
                Arc::clone(k)
            } else {
                cast(k, t)?
            };
            // floats match by SQL's rule (-0.0 = 0.0, NaN = NaN), as everywhere in ltseq
            Ok(canonical_key(&k))
        })
        .collect()
}

/// Rows where every key column is non-NULL.
fn valid_keys(keys: &[ArrayRef]) -> Option<NullBuffer> {
    keys.iter().fold(None, |acc, k| {
        NullBuffer::union(acc.as_ref(), k.logical_nulls().as_ref())
    })
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
        if rows >= ABSENT as usize {
            return Err(DataFusionError::Execution(format!(
                "ltseq link: the target has {rows} rows; at most {} are supported",
                ABSENT - 1
            )));
        }
        let keys = cast_keys(keys, key_types)?;
        let valid = valid_keys(&keys);
        let is_valid = |i: usize| valid.as_ref().is_none_or(|v| v.is_valid(i));
        let lookup = if keys.len() == 1 && keys[0].data_type() == &DataType::Int64 {
            let ints = keys[0].as_primitive::<Int64Type>();
            let (mut min, mut max) = (i64::MAX, i64::MIN);
            for i in (0..rows).filter(|&i| is_valid(i)) {
                let v = ints.value(i);
                min = min.min(v);
                max = max.max(v);
            }
            let span = if min > max {
                0
            } else {
                (max as i128 - min as i128 + 1) as u128
            };
            if span <= (4 * rows as u128).max(1 << 16) {
                let mut slots = vec![ABSENT; span as usize];
                for i in (0..rows).filter(|&i| is_valid(i)) {
                    let slot = &mut slots[(ints.value(i) as i128 - min as i128) as usize];
                    if *slot != ABSENT {
                        return Err(duplicate_error(spec, &keys, *slot as usize, i));
                    }
                    *slot = i as u32;
                }
                KeyLookup::Dense { min, slots }
            } else {
                let mut map = HashMap::with_capacity(rows);
                for i in (0..rows).filter(|&i| is_valid(i)) {
                    if let Some(first) = map.insert(ints.value(i), i as u32) {
                        return Err(duplicate_error(spec, &keys, first as usize, i));
                    }
                }
                KeyLookup::Int(map)
            }
        } else {
            let fields = keys
                .iter()
                .map(|k| SortField::new(k.data_type().clone()))
                .collect();
            let converter = RowConverter::new(fields)?;
            let encoded = converter.convert_columns(&keys)?;
            let mut map: HashMap<Box<[u8]>, u32> = HashMap::with_capacity(rows);
            for i in (0..rows).filter(|&i| is_valid(i)) {
                if let Some(first) = map.insert(encoded.row(i).as_ref().into(), i as u32) {
                    return Err(duplicate_error(spec, &keys, first as usize, i));
                }
            }
            KeyLookup::Rows { converter, map }
        };
        Ok(Self {
            columns,
            lookup,
            key_types: key_types.to_vec(),
            held: None,
        })
    }

    /// The bytes the index holds: its columns and its lookup structure.
    fn bytes(&self) -> usize {
        let columns: usize = self.columns.iter().map(|c| array_bytes(c.as_ref())).sum();
        let lookup = match &self.lookup {
            KeyLookup::Dense { slots, .. } => slots.capacity() * 4,
            KeyLookup::Int(map) => map.capacity() * 16,
            KeyLookup::Rows { map, .. } => map
                .keys()
                .map(|k| k.len() + 24)
                .sum::<usize>()
                .max(map.capacity() * 24),
        };
        columns + lookup
    }

    /// The target row of each source row (NULL: no match, or a NULL key).
    fn positions(&self, keys: &[ArrayRef]) -> Result<UInt32Array> {
        let keys = cast_keys(keys, &self.key_types)?;
        let n = keys.first().map_or(0, |k| k.len());
        let valid = valid_keys(&keys);
        let is_valid = |i: usize| valid.as_ref().is_none_or(|v| v.is_valid(i));
        let mut values = vec![0u32; n];
        let mut found = vec![false; n];
        match &self.lookup {
            KeyLookup::Dense { min, slots } => {
                let ints = keys[0].as_primitive::<Int64Type>();
                for (i, &v) in ints.values().iter().enumerate() {
                    let off = v.wrapping_sub(*min) as u64;
                    if let Some(&slot) = slots.get(off as usize) {
                        values[i] = slot;
                        found[i] = slot != ABSENT && is_valid(i);
                    }
                }
            }
            KeyLookup::Int(map) => {
                let ints = keys[0].as_primitive::<Int64Type>();
                for (i, v) in ints.values().iter().enumerate() {
                    if is_valid(i) {
                        if let Some(&slot) = map.get(v) {
                            values[i] = slot;
                            found[i] = true;
                        }
                    }
                }
            }
            KeyLookup::Rows { converter, map } => {
                let encoded = converter.convert_columns(&keys)?;
                for i in (0..n).filter(|&i| is_valid(i)) {
                    if let Some(&slot) = map.get(encoded.row(i).as_ref()) {
                        values[i] = slot;
                        found[i] = true;
                    }
                }
            }
        }
        if found.iter().all(|&f| f) {
            // Every row matched: no null buffer, so `take` runs its no-null path.
            return Ok(UInt32Array::new(values.into(), None));
        }
        for (v, f) in values.iter_mut().zip(&found) {
            if !f {
                *v = 0;
            }
        }
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

/// The target index of one `LinkExec`, shared by its partitions. The target's plan can be
/// executed only once (a `RepartitionExec` in it hands out each partition once), so a failed
/// or abandoned read is remembered, never retried.
pub(super) enum IndexState {
    Empty,
    Reading,
    Ready(Arc<TargetIndex>),
    Failed(Arc<DataFusionError>),
}

pub(super) type IndexCell = futures::lock::Mutex<IndexState>;

/// Reads the whole target (every partition, one after another) and indexes it.
pub(super) async fn build_index(
    target: Arc<dyn ExecutionPlan>,
    spec: LinkSpec,
    key_types: Vec<DataType>,
    context: Arc<TaskContext>,
) -> Result<TargetIndex> {
    let schema = target.schema();
    let mut held = Held::new(NAME, 0, &context);
    let mut batches = Vec::new();
    for p in 0..target.output_partitioning().partition_count() {
        let mut stream = target.execute(p, Arc::clone(&context))?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            held.grow(batch_bytes(&batch))?;
            batches.push(batch);
        }
    }
    // the batches and their concatenation, for a moment
    held.set(held.size().saturating_mul(2))?;
    let all = concat_batches(&schema, &batches)?;
    drop(batches);
    let keys = spec
        .target_keys
        .iter()
        .map(|k| Ok(Arc::clone(all.column(schema.index_of(k)?))))
        .collect::<Result<Vec<_>>>()?;
    let columns = spec
        .fetch
        .iter()
        .map(|c| {
            let column = all.column(schema.index_of(c)?);
            let t = gathered_type(column.data_type());
            if &t == column.data_type() {
                Ok(Arc::clone(column))
            } else {
                Ok(cast(column, &t)?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
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
