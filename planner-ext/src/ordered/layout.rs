//! [`Layout`]: how an operator over one ordered input reads it and lays out its output (the
//! Window, GroupOrdered and Pattern operators share it).
//!
//! Run as one ordered stream, such an operator declares the host's partition count with all
//! rows in partition 0 and the others empty: a host that saw a single partition would split it
//! round-robin for parallelism, scattering the order a following ltseq operator needs. In
//! parallel mode it has one output partition per input partition.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};
use serde::{Deserialize, Serialize};

use super::exec::{InputNeeds, Kernel, OrderedExec};
use super::input::{ascending_requirement, ordered_stream};
use super::order::{ascending, order_of, ordering, Order, Shape};
use super::InputOrder;

/// How a one-input ordered operator reads its input and lays out its output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// How the input delivers its rows in sequence order.
    pub order: InputOrder,
    /// With a visible input: the order it must have (these columns, ascending, NULLs last, as
    /// one partition); DataFusion's optimizer sorts it only if it is not already.
    pub required_order: Vec<String>,
    /// Declared output partitions.
    pub output_partitions: usize,
}

impl Layout {
    /// One ordered stream: one partition in order, or with `concat_by` the input's partitions
    /// one after another (ascending in that ordinal); a visible input must have
    /// `required_order`.
    pub fn stream(concat_by: Option<String>, required_order: Vec<String>) -> Self {
        Self {
            order: concat_by.map_or(InputOrder::Single, InputOrder::Concat),
            required_order,
            output_partitions: 1,
        }
    }

    /// The layout of a hidden input `plan` read in `order` (see `input::read_ordered`): in
    /// parallel one output partition per input partition, else the session's partition count.
    pub fn hidden(plan: &Arc<dyn ExecutionPlan>, order: InputOrder, session: &dyn Session) -> Self {
        let output_partitions = match order {
            InputOrder::Parallel | InputOrder::EachPartition => {
                plan.output_partitioning().partition_count().max(1)
            }
            _ => session.config_options().execution.target_partitions,
        };
        Self {
            order,
            required_order: vec![],
            output_partitions,
        }
    }

    pub fn parallel(&self) -> bool {
        self.order == InputOrder::Parallel
    }

    /// Output partition `p` reads input partition `p` (in parallel, or each on its own).
    fn partition_per_partition(&self) -> bool {
        matches!(self.order, InputOrder::Parallel | InputOrder::EachPartition)
    }

    /// The concat ordinal, when there is one.
    pub fn concat_by(&self) -> Option<&String> {
        match &self.order {
            InputOrder::Concat(name) => Some(name),
            _ => None,
        }
    }

    /// The order of the operator's whole output when its rows are the input's, in the order
    /// it reads them (see [`super::order`]): the input's order when that is one stream in
    /// order, else, reading partitions in ordinal order, the ordinal.
    pub fn order(&self, input: &Arc<dyn ExecutionPlan>, schema: &Schema) -> Option<Order> {
        let proven = order_of(input).and_then(Order::in_order);
        let order = match &self.order {
            InputOrder::Concat(ordinal) => {
                proven.or_else(|| Order::new(vec![ascending(ordinal)], Shape::InOrder))
            }
            InputOrder::Single | InputOrder::Parallel => proven,
            // each partition in its own order, as the input's
            InputOrder::EachPartition => {
                return order_of(input)?.shaped(Shape::EachSorted).within(schema);
            }
        };
        // In one stream all rows go to the first output partition.
        let order = if self.parallel() {
            order?.shaped(Shape::InOrder)
        } else {
            order?.shaped(Shape::InFirst)
        };
        order.within(schema)
    }

    /// DataFusion's orderings (each partition sorted) of that output, whose columns keep their
    /// input positions: the input's when output partitions are input partitions (or there is
    /// one), else the ordinal.
    pub fn orderings(&self, input: &Arc<dyn ExecutionPlan>, schema: &Schema) -> Vec<LexOrdering> {
        match &self.order {
            InputOrder::Concat(ordinal) => ordering(&[ascending(ordinal)], schema)
                .into_iter()
                .collect(),
            InputOrder::Single | InputOrder::Parallel | InputOrder::EachPartition => input
                .equivalence_properties()
                .oeq_class()
                .iter()
                .cloned()
                .collect(),
        }
    }

    pub fn partitioning(&self) -> Partitioning {
        Partitioning::UnknownPartitioning(self.output_partitions.max(1))
    }

    /// `[n partitions in parallel]` in parallel mode, else nothing.
    pub fn tag(&self) -> String {
        if self.parallel() {
            format!("[{} partitions in parallel]", self.output_partitions)
        } else {
            String::new()
        }
    }

    /// What the input must deliver when it is visible.
    pub fn input_needs(
        &self,
        input: &Arc<dyn ExecutionPlan>,
        keeps_order: bool,
    ) -> Vec<InputNeeds> {
        let ordering = ascending_requirement(&input.schema(), &self.required_order);
        vec![match self.order {
            InputOrder::Concat(_) | InputOrder::EachPartition => {
                InputNeeds::any(ordering, keeps_order)
            }
            _ => InputNeeds::single(ordering, keeps_order),
        }]
    }

    /// The input stream of output partition `partition`; `None` for a declared partition
    /// that has no work (its output is empty). A visible input is made one ordered partition
    /// by the optimizer (the input needs); a hidden one must be, unless read in parallel or in
    /// order.
    pub fn open(
        &self,
        who: &'static str,
        input: &Arc<dyn ExecutionPlan>,
        partition: usize,
        context: &Arc<TaskContext>,
    ) -> Result<Option<SendableRecordBatchStream>> {
        let declared = if self.order == InputOrder::EachPartition {
            input.output_partitioning().partition_count()
        } else {
            self.output_partitions.max(1)
        };
        if partition >= declared {
            return Err(DataFusionError::Internal(format!(
                "{who}: partition {partition} requested, it has {declared}"
            )));
        }
        if partition > 0 && !self.partition_per_partition() {
            return Ok(None);
        }
        let partitions = input.output_partitioning().partition_count();
        if self.order == InputOrder::Single && partitions != 1 {
            return Err(DataFusionError::Plan(format!(
                "{who} needs its ordered input as one partition, got {partitions}"
            )));
        }
        Ok(Some(ordered_stream(
            input,
            &self.order,
            partition,
            context,
            who,
        )?))
    }
}

/// A spec with a [`Layout`] (implement it with [`crate::has_layout!`]).
pub trait HasLayout {
    fn layout(&self) -> &Layout;
    fn layout_mut(&mut self) -> &mut Layout;
}

/// Implements [`HasLayout`] for a spec type whose field `layout` is its [`Layout`].
#[macro_export]
macro_rules! has_layout {
    ($spec:ty) => {
        impl $crate::ordered::HasLayout for $spec {
            fn layout(&self) -> &$crate::ordered::Layout {
                &self.layout
            }

            fn layout_mut(&mut self) -> &mut $crate::ordered::Layout {
                &mut self.layout
            }
        }
    };
}

impl<K: Kernel> OrderedExec<K>
where
    K::Spec: HasLayout,
{
    /// Declares `n` output partitions, all but the first empty.
    pub fn with_output_partitions(self, n: usize) -> Result<Self> {
        self.with_spec(|s| s.layout_mut().output_partitions = n.max(1))
    }

    /// Requires the (visible) input to be ordered by exactly these columns (ascending, NULLs
    /// last), as one partition.
    pub fn with_input_order(self, order: Vec<String>) -> Result<Self> {
        self.with_spec(|s| s.layout_mut().required_order = order)
    }

    /// The ordering the (visible) input must have, as columns (ascending, NULLs last).
    pub fn input_order(&self) -> Vec<String> {
        self.spec().layout().required_order.clone()
    }

    /// Processes each input partition in parallel: the input's partitions must be consecutive
    /// ranges of the sequence, in order, and re-executable (ltseq's stored-order source), and
    /// hidden. `allowed` is the kernel's own condition, `why` what it requires.
    pub fn in_parallel(
        self,
        allowed: bool,
        why: &str,
        change: impl FnOnce(&mut K::Spec),
    ) -> Result<Self> {
        if !self.hides_inputs() || !allowed {
            return Err(DataFusionError::Internal(format!(
                "{}: parallel partitions need a hidden input and {why}",
                K::NAME
            )));
        }
        let n = self.input().output_partitioning().partition_count().max(1);
        self.with_spec(|s| {
            let layout = s.layout_mut();
            layout.order = InputOrder::Parallel;
            layout.output_partitions = n;
            change(s);
        })
    }
}
