//! The `Link` operator: a pointer-style, many-to-one lookup from a source to a keyed target.
//!
//! Each source row points at (at most) one target row through equal key columns. The operator
//! reads the target once and builds an index from key to row position: a direct-address table
//! when the key is one integer column whose values are dense, a hash table otherwise. Then, for
//! each source batch, it computes the row positions (NULL where the key is NULL or has no
//! match) and gathers (`take`) the fetched target columns. Source rows keep their order and
//! their count (`left`), or only the matched rows stay (`inner`); a target key that occurs more
//! than once is an error naming the key value, never a silent fan-out. The target is the only
//! thing held in memory; the source streams, partition by partition.
//!
//! Output: the source's columns, then the fetched target columns named `prefix + column`.
//!
//! Surfaces: the logical [`LinkNode`] (`LtseqLink` in `EXPLAIN`) planned into [`LinkExec`] by
//! ltseq's extension planner; the table provider [`LinkTableProvider`] (the table-provider
//! route, and the scan ltseq's query planner rewrites into the node); and, in Rust sessions,
//! the table function `ltseq_link('source', 'target', 'keys', 'alias' [, 'left' | 'inner'])`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::{cast, concat_batches, filter, filter_record_batch, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{
    Expr, LogicalPlan, TableProviderFilterPushDown, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::guard::{no_panic, GuardedStream};
use crate::scan::lookup_table;
use crate::sql_args::text_arg;

/// The table function's SQL name (Rust sessions).
pub const LINK_FUNCTION_NAME: &str = "ltseq_link";
const NAME: &str = "LtseqLinkExec";
const NODE_NAME: &str = "LtseqLink";

/// What happens to a source row whose key has no match (or is NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkJoin {
    /// The row stays, with NULL in every fetched column.
    Left,
    /// The row is dropped.
    Inner,
}

impl LinkJoin {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "left" => Ok(Self::Left),
            "inner" => Ok(Self::Inner),
            other => Err(DataFusionError::Plan(format!(
                "{LINK_FUNCTION_NAME}: join type must be 'left' or 'inner', got {other:?}"
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Inner => "inner",
        }
    }
}

/// A link: the key column pairs, the target columns to fetch, and how they are named.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct LinkSpec {
    pub source_keys: Vec<String>,
    pub target_keys: Vec<String>,
    /// Target columns to fetch; output column `prefix + name`.
    pub fetch: Vec<String>,
    pub prefix: String,
    pub join: LinkJoin,
}

impl LinkSpec {
    /// The spec with `fetch` replaced.
    pub fn fetching(&self, fetch: Vec<String>) -> Self {
        Self {
            fetch,
            ..self.clone()
        }
    }

    fn summary(&self) -> String {
        let keys = self
            .source_keys
            .iter()
            .zip(&self.target_keys)
            .map(|(s, t)| format!("{s} = {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "on=[{keys}], fetch=[{}], prefix={}, join={}",
            self.fetch.join(", "),
            self.prefix,
            self.join.as_str()
        )
    }

    /// Checks the spec against the two schemas; returns the key types (the common type each
    /// pair is compared in) and the output schema (source fields, then fetched fields).
    pub fn resolve(&self, source: &Schema, target: &Schema) -> Result<(Vec<DataType>, SchemaRef)> {
        if self.source_keys.is_empty() || self.source_keys.len() != self.target_keys.len() {
            return Err(DataFusionError::Plan(format!(
                "{NODE_NAME}: give one or more key pairs (source column = target column), got {} source and {} target keys",
                self.source_keys.len(),
                self.target_keys.len()
            )));
        }
        let column = |schema: &Schema, name: &str, side: &str| {
            schema.field_with_name(name).cloned().map_err(|_| {
                let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                DataFusionError::Plan(format!(
                    "{NODE_NAME}: the {side} has no column {name:?} (columns: {})",
                    names.join(", ")
                ))
            })
        };
        let mut key_types = Vec::new();
        for (s, t) in self.source_keys.iter().zip(&self.target_keys) {
            let sf = column(source, s, "source")?;
            let tf = column(target, t, "target")?;
            let common = comparison_coercion(sf.data_type(), tf.data_type()).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{NODE_NAME}: cannot compare the source key {s:?} ({}) with the target key {t:?} ({})",
                    sf.data_type(),
                    tf.data_type()
                ))
            })?;
            key_types.push(common);
        }
        let mut fields: Vec<Field> = source.fields().iter().map(|f| f.as_ref().clone()).collect();
        for name in &self.fetch {
            let f = column(target, name, "target")?;
            let out = format!("{}{}", self.prefix, name);
            if fields.iter().any(|g| g.name() == &out) {
                return Err(DataFusionError::Plan(format!(
                    "{NODE_NAME}: the linked column {out:?} would replace a source column of that name; choose another alias"
                )));
            }
            let nullable = self.join == LinkJoin::Left || f.is_nullable();
            fields.push(Field::new(out, gathered_type(f.data_type()), nullable));
        }
        Ok((
            key_types,
            Arc::new(Schema::new_with_metadata(fields, source.metadata().clone())),
        ))
    }
}

/// The type a fetched column is gathered as: strings and binaries as their view types, so a
/// gather copies one 16-byte view per row instead of the bytes (the views point into the
/// target's buffers, read once); everything else as it is.
fn gathered_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 => DataType::Utf8View,
        DataType::Binary | DataType::LargeBinary => DataType::BinaryView,
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// The target index
// ---------------------------------------------------------------------------------------------

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
            if k.data_type() == t {
                Ok(Arc::clone(k))
            } else {
                Ok(cast(k, t)?)
            }
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
        })
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
    fn link(
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
enum IndexState {
    Empty,
    Reading,
    Ready(Arc<TargetIndex>),
    Failed(Arc<DataFusionError>),
}

type IndexCell = futures::lock::Mutex<IndexState>;

/// Reads the whole target (every partition, one after another) and indexes it.
async fn build_index(
    target: Arc<dyn ExecutionPlan>,
    spec: LinkSpec,
    key_types: Vec<DataType>,
    context: Arc<TaskContext>,
) -> Result<TargetIndex> {
    let schema = target.schema();
    let mut batches = Vec::new();
    for p in 0..target.output_partitioning().partition_count() {
        let mut stream = target.execute(p, Arc::clone(&context))?;
        while let Some(batch) = stream.next().await {
            batches.push(batch?);
        }
    }
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
    no_panic(NAME, || {
        TargetIndex::build(&spec, &key_types, &keys, columns, all.num_rows())
    })
}

// ---------------------------------------------------------------------------------------------
// Physical operator
// ---------------------------------------------------------------------------------------------

/// The physical `Link` operator. Output partition `p` is source partition `p`, linked, in the
/// same order. With `hide_inputs` (the table-provider route) it reports no children: the host's
/// optimizer cannot rewrite what it does not see.
#[derive(Debug)]
pub struct LinkExec {
    source: Arc<dyn ExecutionPlan>,
    target: Arc<dyn ExecutionPlan>,
    spec: LinkSpec,
    key_types: Vec<DataType>,
    key_columns: Vec<usize>,
    hide_inputs: bool,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    name: String,
    index: Arc<IndexCell>,
}

impl fmt::Debug for TargetIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TargetIndex({} columns)", self.columns.len())
    }
}

impl LinkExec {
    pub fn try_new(
        source: Arc<dyn ExecutionPlan>,
        target: Arc<dyn ExecutionPlan>,
        spec: LinkSpec,
        hide_inputs: bool,
    ) -> Result<Self> {
        let source_schema = source.schema();
        let (key_types, schema) = spec.resolve(&source_schema, &target.schema())?;
        let key_columns = spec
            .source_keys
            .iter()
            .map(|k| Ok(source_schema.index_of(k)?))
            .collect::<Result<Vec<_>>>()?;
        // The source's columns keep their positions: its orderings, equivalences and
        // constants hold for the output too (inner only removes rows).
        let source_eq = source.equivalence_properties();
        let mut eq = EquivalenceProperties::new(Arc::clone(&schema));
        eq.add_equivalence_group(source_eq.eq_group().clone())?;
        eq.add_constants(source_eq.constants())?;
        eq.add_orderings(
            source_eq
                .oeq_class()
                .iter()
                .map(|o| o.iter().cloned().collect::<Vec<_>>()),
        );
        let properties = Arc::new(PlanProperties::new(
            eq,
            source.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        let name = if hide_inputs {
            format!(
                "{NAME}({}; source: {}; target: {})",
                spec.summary(),
                source.name(),
                target.name()
            )
        } else {
            format!("{NAME}({})", spec.summary())
        };
        Ok(Self {
            source,
            target,
            spec,
            key_types,
            key_columns,
            hide_inputs,
            schema,
            properties,
            name,
            index: Arc::new(futures::lock::Mutex::new(IndexState::Empty)),
        })
    }

    pub fn spec(&self) -> &LinkSpec {
        &self.spec
    }

    pub fn hides_inputs(&self) -> bool {
        self.hide_inputs
    }

    pub fn source(&self) -> &Arc<dyn ExecutionPlan> {
        &self.source
    }

    pub fn target(&self) -> &Arc<dyn ExecutionPlan> {
        &self.target
    }
}

impl DisplayAs for LinkExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.name)
    }
}

impl ExecutionPlan for LinkExec {
    fn name(&self) -> &str {
        &self.name
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        if self.hide_inputs {
            vec![]
        } else {
            vec![&self.source, &self.target]
        }
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        if self.hide_inputs {
            vec![]
        } else {
            vec![true, false]
        }
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        if self.hide_inputs {
            vec![]
        } else {
            // Repartitioning the source round-robin would scatter its order.
            vec![false, false]
        }
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.hide_inputs {
            if children.is_empty() {
                return Ok(self);
            }
            return Err(DataFusionError::Internal(format!(
                "{NAME} hides its inputs and takes no children"
            )));
        }
        let [source, target] = <[Arc<dyn ExecutionPlan>; 2]>::try_from(children)
            .map_err(|_| DataFusionError::Internal(format!("{NAME} takes two children")))?;
        Ok(Arc::new(LinkExec::try_new(
            source,
            target,
            self.spec.clone(),
            false,
        )?))
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        no_panic(NAME, || {
            let context = crate::sequence::input_context(&context);
            let source = self.source.execute(partition, Arc::clone(&context))?;
            let cell = Arc::clone(&self.index);
            let target = Arc::clone(&self.target);
            let spec = self.spec.clone();
            let key_types = self.key_types.clone();
            let key_columns = self.key_columns.clone();
            let schema = Arc::clone(&self.schema);
            let join = self.spec.join;
            let linked = async move {
                // The first partition to get here reads the target; the others wait for it.
                let index = {
                    let mut guard = cell.lock().await;
                    match &*guard {
                        IndexState::Ready(index) => Arc::clone(index),
                        IndexState::Failed(e) => {
                            return Err(DataFusionError::Shared(Arc::clone(e)))
                        }
                        IndexState::Reading => {
                            return Err(DataFusionError::Execution(format!(
                            "{NAME}: the target was being read by a partition that was cancelled"
                        )))
                        }
                        IndexState::Empty => {
                            *guard = IndexState::Reading;
                            match build_index(target, spec, key_types, context).await {
                                Ok(index) => {
                                    let index = Arc::new(index);
                                    *guard = IndexState::Ready(Arc::clone(&index));
                                    index
                                }
                                Err(e) => {
                                    let e = Arc::new(e);
                                    *guard = IndexState::Failed(Arc::clone(&e));
                                    return Err(DataFusionError::Shared(e));
                                }
                            }
                        }
                    }
                };
                Ok::<_, DataFusionError>(source.map(move |batch| {
                    batch.and_then(|b| index.link(&b, &key_columns, join, &schema))
                }))
            };
            let stream = futures::stream::once(linked).try_flatten();
            let adapter = RecordBatchStreamAdapter::new(Arc::clone(&self.schema), stream);
            Ok(Box::pin(GuardedStream::new(Box::pin(adapter), NAME)) as SendableRecordBatchStream)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Logical node
// ---------------------------------------------------------------------------------------------

/// The logical `Link` node (`LtseqLink` in `EXPLAIN`): inputs source, target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkNode {
    source: LogicalPlan,
    target: LogicalPlan,
    spec: LinkSpec,
    schema: DFSchemaRef,
}

impl LinkNode {
    pub fn try_new(source: LogicalPlan, target: LogicalPlan, spec: LinkSpec) -> Result<Self> {
        let source_schema = source.schema();
        let (_, out) = spec.resolve(source_schema.as_arrow(), target.schema().as_arrow())?;
        let fetched: Vec<Field> = out.fields()[source_schema.fields().len()..]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let extra = DFSchema::from_unqualified_fields(fetched.into(), Default::default())?;
        let mut schema = source_schema.as_ref().clone();
        schema.merge(&extra);
        Ok(Self {
            source,
            target,
            spec,
            schema: Arc::new(schema),
        })
    }

    pub fn spec(&self) -> &LinkSpec {
        &self.spec
    }
}

impl Hash for LinkNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.source.hash(state);
        self.target.hash(state);
        self.spec.hash(state);
    }
}

impl PartialOrd for LinkNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.source.partial_cmp(&other.source) {
            Some(Ordering::Equal) => match self.target.partial_cmp(&other.target) {
                Some(Ordering::Equal) => self.spec.partial_cmp(&other.spec),
                o => o,
            },
            o => o,
        }
    }
}

impl UserDefinedLogicalNodeCore for LinkNode {
    fn name(&self) -> &str {
        NODE_NAME
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.source, &self.target]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{NODE_NAME}: {}", self.spec.summary())
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let [source, target] = <[LogicalPlan; 2]>::try_from(inputs)
            .map_err(|_| DataFusionError::Internal(format!("{NODE_NAME} takes two inputs")))?;
        Self::try_new(source, target, self.spec.clone())
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let source = self.source.schema();
        let target = self.target.schema();
        let n = source.fields().len();
        let mut s: Vec<usize> = output_columns.iter().copied().filter(|&i| i < n).collect();
        for k in &self.spec.source_keys {
            s.push(source.index_of_column_by_name(None, k)?);
        }
        s.sort_unstable();
        s.dedup();
        // The fetched columns are fixed by the spec: keep every one the node reads.
        let mut t = Vec::new();
        for k in self.spec.target_keys.iter().chain(&self.spec.fetch) {
            t.push(target.index_of_column_by_name(None, k)?);
        }
        t.sort_unstable();
        t.dedup();
        Some(vec![s, t])
    }
}

// ---------------------------------------------------------------------------------------------
// Table provider (and the Rust SQL table function)
// ---------------------------------------------------------------------------------------------

/// `Link` over two named tables, as a table: the source's columns, then every target column
/// named `prefix + column`. A scan reads only the columns the query needs from each side.
#[derive(Debug)]
pub struct LinkTableProvider {
    source_name: String,
    source_schema: SchemaRef,
    target_name: String,
    target_schema: SchemaRef,
    /// `fetch` holds every target column.
    spec: LinkSpec,
    schema: SchemaRef,
}

impl LinkTableProvider {
    /// `spec.fetch` is ignored: the table offers every target column.
    pub fn try_new(
        source_name: impl Into<String>,
        source_schema: SchemaRef,
        target_name: impl Into<String>,
        target_schema: SchemaRef,
        spec: LinkSpec,
    ) -> Result<Self> {
        let spec = spec.fetching(
            target_schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        );
        let (_, schema) = spec.resolve(&source_schema, &target_schema)?;
        Ok(Self {
            source_name: source_name.into(),
            source_schema,
            target_name: target_name.into(),
            target_schema,
            spec,
            schema,
        })
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    pub fn target_name(&self) -> &str {
        &self.target_name
    }

    pub fn source_schema(&self) -> &SchemaRef {
        &self.source_schema
    }

    pub fn target_schema(&self) -> &SchemaRef {
        &self.target_schema
    }

    pub fn spec(&self) -> &LinkSpec {
        &self.spec
    }

    /// The source or target table, looked up again in `session`'s catalog; it must still
    /// have the schema it had when the link was made.
    pub fn resolve(&self, session: &dyn Session, target: bool) -> Result<Arc<dyn TableProvider>> {
        let (name, schema) = if target {
            (&self.target_name, &self.target_schema)
        } else {
            (&self.source_name, &self.source_schema)
        };
        let table = lookup_table(session, name, LINK_FUNCTION_NAME)?;
        if table.schema().fields() != schema.fields() {
            return Err(DataFusionError::Plan(format!(
                "{LINK_FUNCTION_NAME}: table '{name}' changed its schema since the link was made"
            )));
        }
        Ok(table)
    }

    /// For a projection of this table's columns: the source columns to read (keys included,
    /// ascending), the target columns to read (keys and fetched, ascending), and the spec
    /// fetching only the projected target columns.
    pub fn plan_projection(
        &self,
        projection: &[usize],
    ) -> Result<(Vec<usize>, Vec<usize>, LinkSpec)> {
        let n = self.source_schema.fields().len();
        let mut source: Vec<usize> = projection.iter().copied().filter(|&i| i < n).collect();
        for k in &self.spec.source_keys {
            source.push(self.source_schema.index_of(k)?);
        }
        source.sort_unstable();
        source.dedup();
        let mut fetch_idx: Vec<usize> = projection
            .iter()
            .filter(|&&i| i >= n)
            .map(|&i| i - n)
            .collect();
        fetch_idx.sort_unstable();
        fetch_idx.dedup();
        let fetch = fetch_idx
            .iter()
            .map(|&i| self.target_schema.field(i).name().clone())
            .collect();
        let mut target = fetch_idx;
        for k in &self.spec.target_keys {
            target.push(self.target_schema.index_of(k)?);
        }
        target.sort_unstable();
        target.dedup();
        Ok((source, target, self.spec.fetching(fetch)))
    }

    /// The names of this table's columns (source columns, then prefixed target columns).
    pub fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

#[async_trait]
impl TableProvider for LinkTableProvider {
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
        let (source_cols, target_cols, spec) = self.plan_projection(&wanted)?;
        // A left link keeps every source row, so a limit can go to the source.
        let source_limit = if self.spec.join == LinkJoin::Left {
            limit
        } else {
            None
        };
        let source = self
            .resolve(session, false)?
            .scan(session, Some(&source_cols), &[], source_limit)
            .await?;
        let target = self
            .resolve(session, true)?
            .scan(session, Some(&target_cols), &[], None)
            .await?;
        let exec: Arc<dyn ExecutionPlan> =
            Arc::new(LinkExec::try_new(source, target, spec.clone(), true)?);
        // Map the requested columns onto the operator's output.
        let exec_schema = exec.schema();
        let n = self.source_schema.fields().len();
        let positions = wanted
            .iter()
            .map(|&i| {
                if i < n {
                    source_cols.iter().position(|&c| c == i)
                } else {
                    let name = self.target_schema.field(i - n).name();
                    spec.fetch
                        .iter()
                        .position(|f| f == name)
                        .map(|p| source_cols.len() + p)
                }
                .ok_or_else(|| DataFusionError::Internal(format!("{NAME}: projection mismatch")))
            })
            .collect::<Result<Vec<usize>>>()?;
        if positions.len() == exec_schema.fields().len()
            && positions.iter().enumerate().all(|(i, &p)| i == p)
        {
            return Ok(exec);
        }
        let exprs = positions
            .iter()
            .map(|&pos| {
                let name = exec_schema.field(pos).name().clone();
                (
                    Arc::new(Column::new(&name, pos)) as Arc<dyn PhysicalExpr>,
                    name,
                )
            })
            .collect::<Vec<_>>();
        Ok(Arc::new(ProjectionExec::try_new(exprs, exec)?))
    }
}

/// `ltseq_link('source', 'target', 'keys', 'alias' [, 'left' | 'inner'])`: `keys` is a
/// comma-separated list of `source_column = target_column` (or one name for both sides);
/// target columns come out as `alias_column`.
#[derive(Debug, Default)]
pub struct LinkTableFunction;

/// Parses `a = b, c` into (source keys, target keys).
pub fn parse_keys(text: &str) -> Result<(Vec<String>, Vec<String>)> {
    let (mut s, mut t) = (Vec::new(), Vec::new());
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (a, b) = match item.split_once('=') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (item, item),
        };
        if a.is_empty() || b.is_empty() || b.contains('=') {
            return Err(DataFusionError::Plan(format!(
                "{LINK_FUNCTION_NAME}: cannot read the key {item:?}: write source_column = target_column"
            )));
        }
        s.push(a.to_string());
        t.push(b.to_string());
    }
    if s.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{LINK_FUNCTION_NAME}: give at least one key (source_column = target_column)"
        )));
    }
    Ok((s, t))
}

impl TableFunctionImpl for LinkTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        no_panic(LINK_FUNCTION_NAME, || {
            let exprs = args.exprs();
            if exprs.len() < 4 || exprs.len() > 5 {
                return Err(DataFusionError::Plan(format!(
                    "{LINK_FUNCTION_NAME} expects 4 or 5 arguments: \
                     {LINK_FUNCTION_NAME}('source', 'target', 'source_key = target_key', 'alias' [, 'left' | 'inner']), got {}",
                    exprs.len()
                )));
            }
            let source = text_arg(LINK_FUNCTION_NAME, &exprs[0], 1)?;
            let target = text_arg(LINK_FUNCTION_NAME, &exprs[1], 2)?;
            let (source_keys, target_keys) =
                parse_keys(&text_arg(LINK_FUNCTION_NAME, &exprs[2], 3)?)?;
            let alias = text_arg(LINK_FUNCTION_NAME, &exprs[3], 4)?;
            if alias.trim().is_empty() {
                return Err(DataFusionError::Plan(format!(
                    "{LINK_FUNCTION_NAME}: the alias cannot be empty"
                )));
            }
            let join = match exprs.get(4) {
                Some(e) => LinkJoin::parse(&text_arg(LINK_FUNCTION_NAME, e, 5)?)?,
                None => LinkJoin::Left,
            };
            let source_schema = lookup_table(args.session(), &source, LINK_FUNCTION_NAME)?.schema();
            let target_schema = lookup_table(args.session(), &target, LINK_FUNCTION_NAME)?.schema();
            let spec = LinkSpec {
                source_keys,
                target_keys,
                fetch: vec![],
                prefix: format!("{}_", alias.trim()),
                join,
            };
            Ok(Arc::new(LinkTableProvider::try_new(
                source,
                source_schema,
                target,
                target_schema,
                spec,
            )?) as Arc<dyn TableProvider>)
        })
    }
}
