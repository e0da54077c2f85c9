//! Memory: the pool ltseq's operators account what they hold in.
//!
//! An operator registers a [`Held`] with its task context's memory pool and resizes it to the
//! bytes it buffers (rows waiting for a partition to complete, a link's index, rows to sort);
//! a resize the pool refuses ends the query with DataFusion's `ResourcesExhausted` error,
//! naming the operator, instead of growing past the limit.
//!
//! In a Rust session the task context's pool is the session's own. A context reached across
//! the FFI (a stock Python `SessionContext`) does not carry its runtime: DataFusion's FFI
//! rebuilds a task context with a default, unbounded runtime. So the Python package reads the
//! host's `datafusion.runtime.memory_limit` when it registers ltseq and gives it here
//! ([`set_session_memory_limit`]); [`session_context`] then runs ltseq's operators of that
//! session in a runtime whose pool has that limit (and which spills to the OS temp directory).
//! See `docs/architecture.md`, "Memory".

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    FairSpillPool, MemoryConsumer, MemoryLimit, MemoryReservation, TrackConsumersPool,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use futures::{Stream, StreamExt};

/// The runtime of each host session that has a memory limit, by session id.
static RUNTIMES: LazyLock<Mutex<HashMap<String, Arc<RuntimeEnv>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Sets (or with `None` clears) the memory limit, in bytes, of ltseq's operators in the host
/// session `session_id`.
pub fn set_session_memory_limit(session_id: &str, limit: Option<usize>) -> Result<()> {
    let mut runtimes = RUNTIMES
        .lock()
        .map_err(|_| DataFusionError::Internal("ltseq's memory registry is poisoned".into()))?;
    match limit {
        None => {
            runtimes.remove(session_id);
        }
        Some(bytes) => {
            let same = runtimes.get(session_id).is_some_and(
                |rt| matches!(rt.memory_pool.memory_limit(), MemoryLimit::Finite(b) if b == bytes),
            );
            if !same {
                let pool = TrackConsumersPool::new(
                    FairSpillPool::new(bytes),
                    std::num::NonZeroUsize::new(3).unwrap_or(std::num::NonZeroUsize::MIN),
                );
                let runtime = RuntimeEnvBuilder::new()
                    .with_memory_pool(Arc::new(pool))
                    .build_arc()?;
                runtimes.insert(session_id.to_string(), runtime);
            }
        }
    }
    Ok(())
}

/// The memory limit set for the host session `session_id`, if any.
pub fn session_memory_limit(session_id: &str) -> Option<usize> {
    let runtimes = RUNTIMES.lock().ok()?;
    match runtimes.get(session_id)?.memory_pool.memory_limit() {
        MemoryLimit::Finite(bytes) => Some(bytes),
        _ => None,
    }
}

/// `context`, or, when its session has a limit set here and its own pool has none (it came
/// across the FFI), the same context in that session's runtime.
pub fn session_context(context: Arc<TaskContext>) -> Arc<TaskContext> {
    if !matches!(context.memory_pool().memory_limit(), MemoryLimit::Infinite) {
        return context;
    }
    let runtime = match RUNTIMES.lock() {
        Ok(runtimes) => runtimes.get(context.session_id().as_str()).cloned(),
        Err(_) => None,
    };
    match runtime {
        None => context,
        Some(runtime) => super::input::with_config_and_runtime(
            &context,
            context.session_config().clone(),
            runtime,
        ),
    }
}

/// Whether `context`'s pool has a limit.
pub fn is_limited(context: &TaskContext) -> bool {
    !matches!(context.memory_pool().memory_limit(), MemoryLimit::Infinite)
}

/// A runtime to be inside of while a sort that may spill runs: DataFusion reads spill files
/// with `tokio::fs`, which needs a runtime's blocking pool, and ltseq's streams are polled
/// by a host whose runtime (another copy of tokio, across the FFI) is not one ltseq can see.
/// A current-thread runtime, never driven: nothing is spawned on it (DataFusion spawns only
/// inside a multi-thread runtime), so every stream is still polled by whoever polls ltseq's.
fn io_runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
    });
    RUNTIME.as_ref()
}

/// `f()` inside [`io_runtime`] when no runtime is current.
pub fn in_io_runtime<T>(f: impl FnOnce() -> T) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        return f();
    }
    match io_runtime() {
        Some(rt) => {
            let _inside = rt.enter();
            f()
        }
        None => f(),
    }
}

/// `stream`, each poll inside [`io_runtime`] (see [`in_io_runtime`]).
pub fn polled_in_io_runtime(stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
    struct InRuntime(SendableRecordBatchStream);
    impl Stream for InRuntime {
        type Item = Result<RecordBatch>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            in_io_runtime(|| self.0.poll_next_unpin(cx))
        }
    }
    impl RecordBatchStream for InRuntime {
        fn schema(&self) -> SchemaRef {
            self.0.schema()
        }
    }
    Box::pin(InRuntime(stream))
}

/// `plan`'s rows sorted by `ordering` in one partition with DataFusion's sort, which spills to
/// disk when the pool is full: each partition sorted, then merged. Run it with
/// [`polled_in_io_runtime`].
pub fn spilling_sort(
    plan: Arc<dyn ExecutionPlan>,
    ordering: LexOrdering,
    fetch: Option<usize>,
) -> Arc<dyn ExecutionPlan> {
    let partitions = plan.output_partitioning().partition_count();
    let sorted = Arc::new(
        SortExec::new(ordering.clone(), plan)
            .with_preserve_partitioning(true)
            .with_fetch(fetch),
    );
    if partitions <= 1 {
        return sorted;
    }
    Arc::new(SortPreservingMergeExec::new(ordering, sorted).with_fetch(fetch))
}

/// A plan run in its session's memory pool: the root of a plan ltseq's query planner hands a
/// host across the FFI when the session has a limit (the host's task context arrives without
/// its pool), so that every node below (the host's sorts and joins as well as ltseq's
/// operators) spills or fails within the limit. Shows as `LtseqSessionMemory`.
#[derive(Debug)]
pub struct SessionMemoryExec {
    input: Arc<dyn ExecutionPlan>,
}

impl SessionMemoryExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        Self { input }
    }
}

impl DisplayAs for SessionMemoryExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "LtseqSessionMemory")
    }
}

impl ExecutionPlan for SessionMemoryExec {
    fn name(&self) -> &str {
        "LtseqSessionMemory"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    #[allow(deprecated)]
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(Self::new(input))),
            _ => Err(DataFusionError::Internal(
                "LtseqSessionMemory takes one child".into(),
            )),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let context = session_context(context);
        let stream = in_io_runtime(|| self.input.execute(partition, context))?;
        Ok(polled_in_io_runtime(stream))
    }
}

/// The bytes of the rows of `array` (of a slice: its part of the buffers, not all of them, so
/// that slices of one large array are not each counted at its full size).
pub fn array_bytes(array: &dyn Array) -> usize {
    array
        .to_data()
        .get_slice_memory_size()
        .unwrap_or_else(|_| array.get_array_memory_size())
}

/// [`array_bytes`] of every column of `batch`.
pub fn batch_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| array_bytes(c.as_ref()))
        .sum()
}

/// The bytes an operator holds, registered with its context's pool as `who[partition]`.
#[derive(Debug)]
pub struct Held {
    reservation: MemoryReservation,
}

impl Held {
    pub fn new(who: &str, partition: usize, context: &TaskContext) -> Self {
        let reservation =
            MemoryConsumer::new(format!("{who}[{partition}]")).register(context.memory_pool());
        Self { reservation }
    }

    /// Records that the operator now holds `bytes`: an error (`ResourcesExhausted`) when the
    /// pool cannot give them.
    pub fn set(&mut self, bytes: usize) -> Result<()> {
        self.reservation.try_resize(bytes)
    }

    /// Adds `bytes` to what the operator holds.
    pub fn grow(&mut self, bytes: usize) -> Result<()> {
        self.reservation.try_grow(bytes)
    }

    /// Removes `bytes` (at most what is held).
    pub fn shrink(&mut self, bytes: usize) {
        let bytes = bytes.min(self.reservation.size());
        self.reservation.shrink(bytes);
    }

    pub fn size(&self) -> usize {
        self.reservation.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_with_a_limit_runs_in_a_pool_of_that_size() {
        let ctx = Arc::new(TaskContext::default());
        let id = ctx.session_id();
        assert!(Arc::ptr_eq(&session_context(Arc::clone(&ctx)), &ctx));
        set_session_memory_limit(&id, Some(1000)).unwrap();
        assert_eq!(session_memory_limit(&id), Some(1000));
        let limited = session_context(Arc::clone(&ctx));
        assert!(is_limited(&limited));
        let mut held = Held::new("Op", 0, &limited);
        held.set(600).unwrap();
        let err = held.set(5000).unwrap_err().to_string();
        assert!(err.contains("Resources exhausted"), "{err}");
        assert!(err.contains("Op[0]"), "{err}");
        held.set(100).unwrap();
        assert_eq!(held.size(), 100);
        set_session_memory_limit(&id, None).unwrap();
        assert!(!is_limited(&session_context(ctx)));
    }
}
