//! [`OrderedExec`]: the one `ExecutionPlan` of every ltseq operator.
//!
//! An operator is a [`Kernel`]: a serializable spec, the output's properties, what each input
//! must deliver, and a stream per output partition. `OrderedExec` does what every operator
//! needs around that:
//!
//! - **Hidden or visible inputs.** On the table-provider route the inputs are *hidden*:
//!   `children()` is empty and the operator executes them itself, so a host's optimizer (which
//!   cannot see through the FFI what the operator needs) cannot repartition or reorder them.
//!   On the planner route they are visible children with the kernel's distribution and ordering
//!   requirements, which DataFusion's optimizer provides (sorting only if it must).
//! - Rebuilding on new children (the same spec over the new inputs).
//! - Panic guards around `execute` and every stream's `poll_next`.
//! - `EXPLAIN` text: the kernel's summary, and a hidden input inline. Through the FFI a host
//!   shows only an operator's name, so the name carries the summary too (and, with hidden
//!   inputs, a summary of them).

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_expr::{OrderingRequirements, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{
    Boundedness, ChildrenPropertiesMode, EmissionType, ReplaceChildrenOptions,
};
use datafusion::physical_plan::{
    displayable, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    ExecutionPlanProperties, Partitioning, PlanProperties,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::functions::Functions;
use super::guard::{no_panic, GuardedStream};
use super::order::Order;

/// An execution plan, as operators hold their inputs.
pub type Plan = Arc<dyn ExecutionPlan>;
/// A stream of record batches, as operators produce them.
pub type Batches = SendableRecordBatchStream;

/// The one input of an operator that takes one (an internal error names `who` otherwise).
pub fn one_input<'a>(inputs: &'a [Plan], who: &str) -> Result<&'a Plan> {
    match inputs {
        [input] => Ok(input),
        _ => Err(DataFusionError::Internal(format!(
            "{who} takes one input, got {}",
            inputs.len()
        ))),
    }
}

/// Properties of an operator that emits incrementally and ends (every ltseq operator).
pub fn incremental(eq: EquivalenceProperties, partitioning: Partitioning) -> PlanProperties {
    PlanProperties::new(
        eq,
        partitioning,
        EmissionType::Incremental,
        Boundedness::Bounded,
    )
}

/// What one visible input of an operator must deliver.
#[derive(Debug, Clone)]
pub struct InputNeeds {
    pub distribution: Distribution,
    pub ordering: Option<OrderingRequirements>,
    /// Whether the output keeps this input's row order.
    pub keeps_order: bool,
}

impl InputNeeds {
    /// One partition, with this ordering (if any).
    pub fn single(ordering: Option<OrderingRequirements>, keeps_order: bool) -> Self {
        Self {
            distribution: Distribution::SinglePartition,
            ordering,
            keeps_order,
        }
    }

    /// Any partitioning, with this ordering (if any) within each partition.
    pub fn any(ordering: Option<OrderingRequirements>, keeps_order: bool) -> Self {
        Self {
            distribution: Distribution::UnspecifiedDistribution,
            ordering,
            keeps_order,
        }
    }
}

/// An ordered operator's own logic, run by [`OrderedExec`].
pub trait Kernel: fmt::Debug + Send + Sync + Sized + 'static {
    /// The operator's name in plans (`LtseqSequenceExec`, ...).
    const NAME: &'static str;
    /// Everything that configures the operator (what the physical codec writes).
    type Spec: Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;

    /// The operator configured by `spec` over `inputs` (checked against their schemas).
    /// `functions` are the scalar functions its own expressions may call.
    fn build(spec: Self::Spec, inputs: &[Plan], functions: &Functions) -> Result<Self>;

    fn spec(&self) -> &Self::Spec;

    /// A one-line description of the configuration, for `EXPLAIN`.
    fn summary(&self) -> String;

    /// A tag after the name (`[4 partitions in parallel]`), empty by default.
    fn tag(&self) -> String {
        String::new()
    }

    /// How `EXPLAIN` shows the operator: `Name[tag](summary)` unless the kernel says otherwise.
    fn display(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}{}({})", Self::NAME, self.tag(), self.summary())
    }

    /// The output's schema, orderings and partitioning.
    fn properties(&self, inputs: &[Plan]) -> Result<PlanProperties>;

    /// What each input must deliver when it is visible.
    fn input_needs(&self, inputs: &[Plan]) -> Vec<InputNeeds>;

    /// The order of the whole output, its partitions read one after another (DataFusion's
    /// declared orderings only say that each partition is sorted): what lets ltseq's Output
    /// operator read rows without sorting them again. `None` (the default): not known.
    fn order(&self, _inputs: &[Plan]) -> Option<Order> {
        None
    }

    /// The stream of output partition `partition` (already checked to exist).
    fn execute(&self, inputs: &[Plan], partition: usize, ctx: Arc<TaskContext>) -> Result<Batches>;
}

/// An ltseq operator: a [`Kernel`] over its inputs, hidden or visible.
#[derive(Debug)]
pub struct OrderedExec<K: Kernel> {
    kernel: K,
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    hidden: bool,
    functions: Functions,
    properties: Arc<PlanProperties>,
    name: String,
}

impl<K: Kernel> OrderedExec<K> {
    /// The operator `spec` over `inputs`; `hidden`: the inputs are not reported as children.
    pub fn new(spec: K::Spec, inputs: Vec<Arc<dyn ExecutionPlan>>, hidden: bool) -> Result<Self> {
        Self::with_functions(spec, inputs, hidden, &Functions::builtin())
    }

    /// As [`OrderedExec::new`], with the functions of the session that plans it.
    pub fn with_functions(
        spec: K::Spec,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        hidden: bool,
        functions: &Functions,
    ) -> Result<Self> {
        let kernel = K::build(spec, &inputs, functions)?;
        let properties = Arc::new(kernel.properties(&inputs)?);
        let name = if hidden {
            let sources: Vec<String> = inputs.iter().map(summarize).collect();
            format!(
                "{}{}({}; input: {})",
                K::NAME,
                kernel.tag(),
                kernel.summary(),
                sources.join("; ")
            )
        } else {
            format!("{}{}({})", K::NAME, kernel.tag(), kernel.summary())
        };
        Ok(Self {
            kernel,
            inputs,
            hidden,
            functions: functions.clone(),
            properties,
            name,
        })
    }

    /// The same operator with its spec changed by `change`, rebuilt over the same inputs.
    pub fn with_spec(self, change: impl FnOnce(&mut K::Spec)) -> Result<Self> {
        let mut spec = self.kernel.spec().clone();
        change(&mut spec);
        Self::with_functions(spec, self.inputs, self.hidden, &self.functions)
    }

    pub fn kernel(&self) -> &K {
        &self.kernel
    }

    pub fn spec(&self) -> &K::Spec {
        self.kernel.spec()
    }

    /// The order of the whole output ([`Kernel::order`]).
    pub fn order(&self) -> Option<Order> {
        self.kernel.order(&self.inputs)
    }

    pub fn inputs(&self) -> &[Arc<dyn ExecutionPlan>] {
        &self.inputs
    }

    /// The first input (every operator has at least one).
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.inputs[0]
    }

    pub fn hides_inputs(&self) -> bool {
        self.hidden
    }

    fn each<T>(&self, f: impl Fn(InputNeeds) -> T) -> Vec<T> {
        if self.hidden {
            return vec![];
        }
        self.kernel
            .input_needs(&self.inputs)
            .into_iter()
            .map(f)
            .collect()
    }
}

/// A one-line description of an input plan: each node's name and partition count, from the
/// top down (`A partitions=1 <- B partitions=2`, several children in brackets), so that a
/// hidden input's sorts and merges show in `EXPLAIN`.
fn summarize(plan: &Arc<dyn ExecutionPlan>) -> String {
    let head = format!(
        "{} partitions={}",
        plan.name(),
        plan.output_partitioning().partition_count()
    );
    match &plan.children()[..] {
        [] => head,
        [child] => format!("{head} <- {}", summarize(child)),
        children => {
            let inner: Vec<String> = children.iter().map(|c| summarize(c)).collect();
            format!("{head} <- [{}]", inner.join(", "))
        }
    }
}

impl<K: Kernel> DisplayAs for OrderedExec<K> {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::TreeRender => write!(f, "{}", self.kernel.summary()),
            _ => {
                self.kernel.display(f)?;
                if self.hidden {
                    // The inputs are not children here, so show them inline.
                    for input in &self.inputs {
                        let line = displayable(input.as_ref()).one_line().to_string();
                        write!(f, ", input=[{}]", line.trim())?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl<K: Kernel> ExecutionPlan for OrderedExec<K> {
    fn name(&self) -> &str {
        &self.name
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        if self.hidden {
            vec![]
        } else {
            self.inputs.iter().collect()
        }
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        self.each(|n| n.distribution)
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        self.each(|n| n.ordering)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        self.each(|n| n.keeps_order)
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // Repartitioning an input round-robin would scatter its order.
        self.each(|_| false)
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
        if self.hidden {
            if children.is_empty() {
                return Ok(self);
            }
            return Err(DataFusionError::Internal(format!(
                "{} hides its inputs and takes no children",
                K::NAME
            )));
        }
        if children.len() != self.inputs.len() {
            return Err(DataFusionError::Internal(format!(
                "{} takes {} children, got {}",
                K::NAME,
                self.inputs.len(),
                children.len()
            )));
        }
        Ok(Arc::new(Self::with_functions(
            self.kernel.spec().clone(),
            children,
            false,
            &self.functions,
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
        no_panic(K::NAME, || {
            let count = self.properties.output_partitioning().partition_count();
            if partition >= count {
                return Err(DataFusionError::Internal(format!(
                    "{}: partition {partition} requested, it has {count}",
                    K::NAME
                )));
            }
            let context = super::memory::session_context(context);
            let stream = self.kernel.execute(&self.inputs, partition, context)?;
            Ok(Box::pin(GuardedStream::new(stream, K::NAME)) as SendableRecordBatchStream)
        })
    }
}
