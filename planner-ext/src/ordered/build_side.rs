//! A build side: an input an operator reads whole, once per execution, and shares between its
//! output partitions (Link's target, AsOf's right side). The first partition polled reads it;
//! the others wait on an async lock. The input's plan can be executed only once (a
//! `RepartitionExec` in it hands out each partition once), so a failed or abandoned read is
//! remembered, never retried.

use std::future::Future;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use futures::StreamExt;

use super::memory::{batch_bytes, Held};

enum State<T> {
    Empty,
    Reading,
    Ready(Arc<T>),
    Failed(Arc<DataFusionError>),
}

/// What an operator builds from its build side, shared by the partitions of one execution.
pub struct SharedBuild<T> {
    state: futures::lock::Mutex<State<T>>,
}

impl<T> Default for SharedBuild<T> {
    fn default() -> Self {
        Self {
            state: futures::lock::Mutex::new(State::Empty),
        }
    }
}

impl<T> std::fmt::Debug for SharedBuild<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedBuild")
    }
}

impl<T> SharedBuild<T> {
    /// The built value: built by `build` on the first call, shared after (`who` names the
    /// operator in errors).
    pub async fn get<F, Fut>(&self, who: &str, build: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut guard = self.state.lock().await;
        match &*guard {
            State::Ready(value) => Ok(Arc::clone(value)),
            State::Failed(e) => Err(DataFusionError::Shared(Arc::clone(e))),
            State::Reading => Err(DataFusionError::Execution(format!(
                "{who}: the build side was being read by a partition that was cancelled"
            ))),
            State::Empty => {
                *guard = State::Reading;
                match build().await {
                    Ok(value) => {
                        let value = Arc::new(value);
                        *guard = State::Ready(Arc::clone(&value));
                        Ok(value)
                    }
                    Err(e) => {
                        let e = Arc::new(e);
                        *guard = State::Failed(Arc::clone(&e));
                        Err(DataFusionError::Shared(e))
                    }
                }
            }
        }
    }
}

/// Reads every partition of `plan`, one after another, into one batch (in the order read),
/// holding its bytes in the context's pool as `who`; the reservation is returned, sized for
/// the batch.
pub async fn read_whole(
    who: &str,
    plan: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
) -> Result<(RecordBatch, Held)> {
    let schema = plan.schema();
    let mut held = Held::new(who, 0, &context);
    let mut batches = Vec::new();
    for p in 0..plan.output_partitioning().partition_count() {
        let mut stream = plan.execute(p, Arc::clone(&context))?;
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
    held.set(batch_bytes(&all))?;
    Ok((all, held))
}

/// The type a column fetched from a build side is gathered as: strings and binaries as their
/// view types, so a gather copies one 16-byte view per row instead of the bytes (the views
/// point into the build side's buffers, read once); everything else as it is.
pub fn gathered_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 => DataType::Utf8View,
        DataType::Binary | DataType::LargeBinary => DataType::BinaryView,
        other => other.clone(),
    }
}

/// The columns `names` of `all` (a build side read whole), each as its gathered type.
pub fn fetched_columns(all: &RecordBatch, names: &[String]) -> Result<Vec<ArrayRef>> {
    let schema = all.schema();
    names
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
        .collect()
}
