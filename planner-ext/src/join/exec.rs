//! The Join kernel. Output partition `p` is left partition `p`, joined, in the same order: on
//! the first poll of any partition the right side is read once (the other partitions wait)
//! and grouped by key; then each left batch gets its matches and `take` gathers both sides.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::{StreamExt, TryStreamExt};

use super::spec::{JoinKind, JoinSpec, NAME};
use crate::ordered::build_side::{fetched_columns, read_whole, SharedBuild};
use crate::ordered::guard::no_panic;
use crate::ordered::input::input_context;
use crate::ordered::keys::{KeyGroups, ABSENT};
use crate::ordered::memory::{array_bytes, Held};
use crate::ordered::order::{ascending, order_of, Order};
use crate::ordered::{Batches, Functions, InputNeeds, Kernel, OrderedExec, Plan};

/// The right side, read once: its fetched columns and its rows by key.
#[derive(Debug)]
struct RightGroups {
    columns: Vec<ArrayRef>,
    groups: KeyGroups,
    _held: Held,
}

/// The Join kernel (inputs: left, right).
#[derive(Debug)]
pub struct Join {
    spec: JoinSpec,
    key_types: Vec<DataType>,
    left_keys: Vec<usize>,
    schema: SchemaRef,
    right: Arc<SharedBuild<RightGroups>>,
}

/// The physical order-keeping join (`LtseqJoinExec`).
pub type JoinExec = OrderedExec<Join>;

impl OrderedExec<Join> {
    pub fn try_new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        spec: JoinSpec,
        hide_inputs: bool,
    ) -> Result<Self> {
        Self::new(spec, vec![left, right], hide_inputs)
    }
}

async fn read_right(
    right: Arc<dyn ExecutionPlan>,
    spec: JoinSpec,
    key_types: Vec<DataType>,
    context: Arc<TaskContext>,
) -> Result<RightGroups> {
    let schema = right.schema();
    let (all, mut held) = read_whole(NAME, right, context).await?;
    let keys = spec
        .right_keys
        .iter()
        .map(|k| Ok(Arc::clone(all.column(schema.index_of(k)?))))
        .collect::<Result<Vec<_>>>()?;
    let columns = fetched_columns(&all, &spec.fetch)?;
    let groups = no_panic(NAME, || {
        KeyGroups::build(&key_types, &keys, all.num_rows(), |_| true)
    })?;
    drop(all);
    let columns_bytes: usize = columns.iter().map(|c| array_bytes(c.as_ref())).sum();
    held.set(columns_bytes + groups.bytes())?;
    Ok(RightGroups {
        columns,
        groups,
        _held: held,
    })
}

/// One left batch joined: the left rows (repeated per match), the right rows (NULL: none).
fn join_batch(
    right: &RightGroups,
    spec: &JoinSpec,
    batch: &RecordBatch,
    left_keys: &[usize],
    schema: &SchemaRef,
    next_ordinal: &mut i64,
) -> Result<RecordBatch> {
    let keys: Vec<ArrayRef> = left_keys
        .iter()
        .map(|&i| Arc::clone(batch.column(i)))
        .collect();
    let ids = right.groups.probe(&keys, batch.num_rows())?;
    let (mut left_rows, mut right_rows) = (Vec::new(), Vec::<Option<u32>>::new());
    for (i, &id) in ids.iter().enumerate() {
        let span = if id == ABSENT {
            0..0
        } else {
            right.groups.span(id)
        };
        match spec.kind {
            JoinKind::Semi | JoinKind::Anti => {
                if span.is_empty() == (spec.kind == JoinKind::Anti) {
                    left_rows.push(i as u32);
                }
            }
            JoinKind::Inner | JoinKind::Left => {
                if span.is_empty() {
                    if spec.kind == JoinKind::Left {
                        left_rows.push(i as u32);
                        right_rows.push(None);
                    }
                    continue;
                }
                for &r in &right.groups.rows[span] {
                    left_rows.push(i as u32);
                    right_rows.push(Some(r));
                }
            }
        }
    }
    let all_left = left_rows.len() == batch.num_rows() && !spec.kind.fetches();
    let left_idx = UInt32Array::from(left_rows);
    let mut columns: Vec<ArrayRef> = if all_left {
        batch.columns().to_vec()
    } else {
        batch
            .columns()
            .iter()
            .map(|c| Ok(take(c.as_ref(), &left_idx, None)?))
            .collect::<Result<_>>()?
    };
    if spec.kind.fetches() {
        let right_idx = UInt32Array::from(right_rows);
        for c in &right.columns {
            columns.push(take(c.as_ref(), &right_idx, None)?);
        }
        if spec.ordinal.is_some() {
            let n = left_idx.len() as i64;
            columns.push(Arc::new(Int64Array::from_iter_values(
                *next_ordinal..*next_ordinal + n,
            )));
            *next_ordinal += n;
        }
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

impl Kernel for Join {
    const NAME: &'static str = NAME;
    type Spec = JoinSpec;

    fn build(spec: JoinSpec, inputs: &[Plan], _: &Functions) -> Result<Self> {
        let [left, right] = inputs else {
            return Err(DataFusionError::Internal(format!(
                "{NAME} takes two inputs (left, right)"
            )));
        };
        let left_schema = left.schema();
        let (key_types, schema) = spec.resolve(&left_schema, &right.schema())?;
        let left_keys = spec
            .left_keys
            .iter()
            .map(|k| Ok(left_schema.index_of(k)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            spec,
            key_types,
            left_keys,
            schema,
            right: Arc::default(),
        })
    }

    fn spec(&self) -> &JoinSpec {
        &self.spec
    }

    fn summary(&self) -> String {
        self.spec.summary()
    }

    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties> {
        let left = &inputs[0];
        let mut eq = EquivalenceProperties::new(Arc::clone(&self.schema));
        if !self.spec.kind.fetches() {
            // only left rows, each at most once, in their order
            let left_eq = left.equivalence_properties();
            eq.add_equivalence_group(left_eq.eq_group().clone())?;
            eq.add_orderings(
                left_eq
                    .oeq_class()
                    .iter()
                    .map(|o| o.iter().cloned().collect::<Vec<_>>()),
            );
        }
        Ok(PlanProperties::new(
            eq,
            left.output_partitioning().clone(),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ))
    }

    fn input_needs(&self, _inputs: &[Plan]) -> Vec<InputNeeds> {
        vec![InputNeeds::any(None, true), InputNeeds::any(None, false)]
    }

    fn order(&self, inputs: &[Plan]) -> Option<Order> {
        let left = order_of(&inputs[0])?.within(&self.schema)?;
        if !self.spec.kind.fetches() {
            return Some(left);
        }
        // a left row's matches are adjacent: the left's order holds, and within a left row
        // (or across partitions, from p * 2^40) the ordinal increases
        let ordinal = ascending(self.spec.ordinal.as_ref()?);
        let orderings = left
            .orderings
            .iter()
            .map(|keys| keys.iter().cloned().chain([ordinal.clone()]).collect())
            .chain([vec![ordinal.clone()]])
            .collect();
        Some(Order { orderings, ..left })
    }

    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches> {
        let ctx = input_context(&ctx);
        let left = inputs[0].execute(partition, Arc::clone(&ctx))?;
        let cell = Arc::clone(&self.right);
        let right = Arc::clone(&inputs[1]);
        let spec = self.spec.clone();
        let key_types = self.key_types.clone();
        let schema = Arc::clone(&self.schema);
        let left_keys = self.left_keys.clone();
        let mut next_ordinal = (partition as i64) << 40;
        let joined = async move {
            let groups = cell
                .get(NAME, || read_right(right, spec.clone(), key_types, ctx))
                .await?;
            Ok::<_, DataFusionError>(left.map(move |batch| {
                batch.and_then(|b| {
                    join_batch(&groups, &spec, &b, &left_keys, &schema, &mut next_ordinal)
                })
            }))
        };
        let stream = futures::stream::once(joined).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        )))
    }
}
