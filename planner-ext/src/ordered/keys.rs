//! Equal keys across two inputs: each distinct non-NULL key of a build side gets a dense id (in
//! first-occurrence order), and a probe gives each probe row the id of its key (or [`ABSENT`]:
//! a NULL key, or one the build side does not have). The operators that match rows of one
//! input with rows of another (Link, AsOf) use it.
//!
//! One integer key is looked up in a direct-address table when its values are dense (they span
//! at most `max(4 x rows, 65536)`), in a hash map when sparse; any other key (strings,
//! composite keys, floats, dates) in a hash map over arrow's row format of the key columns.
//! Each key pair is compared in a common type given by the caller; floats match by SQL's rule
//! (-0.0 = 0.0, NaN = NaN), as everywhere in ltseq.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::error::{DataFusionError, Result};
use ltseq_udf::run_id::canonical_key;

/// The id of a row whose key is NULL or not found.
pub const ABSENT: u32 = u32::MAX;

enum Lookup {
    /// One integer key, values in `min .. min + slots.len()`: the slot holds the id.
    Dense { min: i64, slots: Vec<u32> },
    /// One integer key, sparse.
    Int(HashMap<i64, u32>),
    /// Any other key: the keys in arrow's row format.
    Rows {
        converter: RowConverter,
        map: HashMap<Box<[u8]>, u32>,
    },
}

/// The distinct keys of a build side, each with its id.
pub struct KeyIds {
    lookup: Lookup,
    key_types: Vec<DataType>,
    distinct: usize,
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

/// The key columns in the types they are compared in (one small integer key as BIGINT), with
/// floats made canonical.
pub fn cast_keys(keys: &[ArrayRef], types: &[DataType]) -> Result<Vec<ArrayRef>> {
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
            Ok(canonical_key(&k))
        })
        .collect()
}

/// The id in `slot`, given the next one first when it has none.
fn assign(slot: &mut u32, next: &mut u32) -> u32 {
    if *slot == ABSENT {
        *slot = *next;
        *next += 1;
    }
    *slot
}

/// Rows where every key column is non-NULL.
fn valid_keys(keys: &[ArrayRef]) -> Option<NullBuffer> {
    keys.iter().fold(None, |acc, k| {
        NullBuffer::union(acc.as_ref(), k.logical_nulls().as_ref())
    })
}

impl KeyIds {
    /// The keys of the build side (`keys`, `rows` long, compared in `key_types`): the lookup,
    /// and the id of each row ([`ABSENT`] where a key is NULL).
    pub fn build(
        key_types: &[DataType],
        keys: &[ArrayRef],
        rows: usize,
    ) -> Result<(Self, Vec<u32>)> {
        if rows >= ABSENT as usize {
            return Err(DataFusionError::Execution(format!(
                "ltseq: a build side of {rows} rows is too large; at most {} are supported",
                ABSENT - 1
            )));
        }
        let keys = cast_keys(keys, key_types)?;
        let valid = valid_keys(&keys);
        let is_valid = |i: usize| valid.as_ref().is_none_or(|v| v.is_valid(i));
        let mut ids = vec![ABSENT; rows];
        let mut next = 0u32;
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
                    ids[i] = assign(
                        &mut slots[(ints.value(i) as i128 - min as i128) as usize],
                        &mut next,
                    );
                }
                Lookup::Dense { min, slots }
            } else {
                let mut map = HashMap::with_capacity(rows);
                for i in (0..rows).filter(|&i| is_valid(i)) {
                    ids[i] = assign(map.entry(ints.value(i)).or_insert(ABSENT), &mut next);
                }
                Lookup::Int(map)
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
                let row = encoded.row(i);
                ids[i] = match map.get(row.as_ref()) {
                    Some(&id) => id,
                    None => {
                        let id = next;
                        next += 1;
                        map.insert(row.as_ref().into(), id);
                        id
                    }
                };
            }
            Lookup::Rows { converter, map }
        };
        let distinct = next as usize;
        let key_types = key_types.to_vec();
        Ok((
            Self {
                lookup,
                key_types,
                distinct,
            },
            ids,
        ))
    }

    /// The number of distinct keys (ids are `0 .. distinct`).
    pub fn distinct(&self) -> usize {
        self.distinct
    }

    /// The id of each probe row's key ([`ABSENT`]: NULL, or not on the build side).
    pub fn probe(&self, keys: &[ArrayRef]) -> Result<Vec<u32>> {
        let keys = cast_keys(keys, &self.key_types)?;
        let n = keys.first().map_or(0, |k| k.len());
        let valid = valid_keys(&keys);
        let is_valid = |i: usize| valid.as_ref().is_none_or(|v| v.is_valid(i));
        let mut ids = vec![ABSENT; n];
        match &self.lookup {
            Lookup::Dense { min, slots } => {
                let ints = keys[0].as_primitive::<Int64Type>();
                for (i, &v) in ints.values().iter().enumerate() {
                    let off = v.wrapping_sub(*min) as u64;
                    if let Some(&slot) = slots.get(off as usize) {
                        if is_valid(i) {
                            ids[i] = slot;
                        }
                    }
                }
            }
            Lookup::Int(map) => {
                let ints = keys[0].as_primitive::<Int64Type>();
                for (i, v) in ints.values().iter().enumerate() {
                    if is_valid(i) {
                        if let Some(&id) = map.get(v) {
                            ids[i] = id;
                        }
                    }
                }
            }
            Lookup::Rows { converter, map } => {
                let encoded = converter.convert_columns(&keys)?;
                for i in (0..n).filter(|&i| is_valid(i)) {
                    if let Some(&id) = map.get(encoded.row(i).as_ref()) {
                        ids[i] = id;
                    }
                }
            }
        }
        Ok(ids)
    }

    /// The bytes the lookup holds.
    pub fn bytes(&self) -> usize {
        match &self.lookup {
            Lookup::Dense { slots, .. } => slots.capacity() * 4,
            Lookup::Int(map) => map.capacity() * 16,
            Lookup::Rows { map, .. } => map
                .keys()
                .map(|k| k.len() + 24)
                .sum::<usize>()
                .max(map.capacity() * 24),
        }
    }
}

/// The rows of a build side grouped by key, each key's rows in the build side's order: key id
/// `k`'s rows are `rows[offsets[k] .. offsets[k + 1]]`. Without key columns every row is in
/// one group (id 0).
pub struct KeyGroups {
    keys: Option<KeyIds>,
    pub offsets: Vec<u32>,
    pub rows: Vec<u32>,
}

impl KeyGroups {
    /// Groups the `n` rows with keys `keys` (compared in `key_types`) for which `keep` holds
    /// (rows with a NULL key are left out).
    pub fn build(
        key_types: &[DataType],
        keys: &[ArrayRef],
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Self> {
        let (lookup, ids) = if keys.is_empty() {
            (None, vec![0u32; n])
        } else {
            let (lookup, ids) = KeyIds::build(key_types, keys, n)?;
            (Some(lookup), ids)
        };
        let groups = lookup.as_ref().map_or(1, |k| k.distinct());
        // a counting sort by key id, stable: each key's rows in the build side's order
        let mut offsets = vec![0u32; groups + 1];
        for (i, &id) in ids.iter().enumerate() {
            if id != ABSENT && keep(i) {
                offsets[id as usize + 1] += 1;
            }
        }
        for k in 0..groups {
            offsets[k + 1] += offsets[k];
        }
        let mut next = offsets.clone();
        let mut rows = vec![0u32; offsets[groups] as usize];
        for (i, &id) in ids.iter().enumerate() {
            if id != ABSENT && keep(i) {
                rows[next[id as usize] as usize] = i as u32;
                next[id as usize] += 1;
            }
        }
        Ok(Self {
            keys: lookup,
            offsets,
            rows,
        })
    }

    /// The number of groups.
    pub fn groups(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The group id of each probe row ([`ABSENT`]: a NULL key or none on the build side).
    pub fn probe(&self, keys: &[ArrayRef], n: usize) -> Result<Vec<u32>> {
        match &self.keys {
            None => Ok(vec![0u32; n]),
            Some(lookup) => lookup.probe(keys),
        }
    }

    /// The positions in `rows` of group `id`.
    pub fn span(&self, id: u32) -> std::ops::Range<usize> {
        self.offsets[id as usize] as usize..self.offsets[id as usize + 1] as usize
    }

    /// The bytes it holds.
    pub fn bytes(&self) -> usize {
        self.keys.as_ref().map_or(0, |k| k.bytes())
            + (self.offsets.capacity() + self.rows.capacity()) * 4
    }
}

impl std::fmt::Debug for KeyGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyGroups({} groups, {} rows)",
            self.groups(),
            self.rows.len()
        )
    }
}
