//! Panic guards: nothing ltseq runs may unwind into the host (across FFI a panic aborts).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use futures::Stream;

pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs `f`, turning a panic into an error that names `what`.
pub fn no_panic<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(DataFusionError::Execution(format!(
            "internal error in {what}: {}",
            panic_message(payload)
        )))
    })
}

/// Awaits `f`, turning a panic into an error that names `what`.
pub async fn no_panic_async<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    use futures::FutureExt;
    AssertUnwindSafe(f)
        .catch_unwind()
        .await
        .unwrap_or_else(|payload| {
            Err(DataFusionError::Execution(format!(
                "internal error in {what}: {}",
                panic_message(payload)
            )))
        })
}

/// What a stream's step (a pushed batch, the end) gives `poll_next` to return: the batch or
/// error it yields, or `None` when it yields nothing yet.
pub fn ready(step: Result<Option<RecordBatch>>) -> Option<Poll<Option<Result<RecordBatch>>>> {
    match step {
        Ok(Some(batch)) => Some(Poll::Ready(Some(Ok(batch)))),
        Ok(None) => None,
        Err(e) => Some(Poll::Ready(Some(Err(e)))),
    }
}

/// A record batch stream whose `poll_next` cannot panic: a panic becomes an error item and
/// ends the stream.
pub struct GuardedStream {
    inner: Option<SendableRecordBatchStream>,
    schema: SchemaRef,
    what: &'static str,
}

impl GuardedStream {
    pub fn new(inner: SendableRecordBatchStream, what: &'static str) -> Self {
        let schema = inner.schema();
        Self {
            inner: Some(inner),
            schema,
            what,
        }
    }
}

impl Stream for GuardedStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let what = self.what;
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_next(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                self.inner = None;
                Poll::Ready(Some(Err(DataFusionError::Execution(format!(
                    "internal error in {what}: {}",
                    panic_message(payload)
                )))))
            }
        }
    }
}

impl RecordBatchStream for GuardedStream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Schema;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use futures::StreamExt;
    use std::sync::Arc;

    #[test]
    fn no_panic_turns_a_panic_into_an_error() {
        let err = no_panic::<()>("test operator", || panic!("boom")).unwrap_err();
        assert!(
            err.to_string()
                .contains("internal error in test operator: boom"),
            "{err}"
        );
        assert_eq!(no_panic("x", || Ok(7)).unwrap(), 7);
    }

    #[tokio::test]
    async fn a_panicking_stream_ends_with_an_error() {
        let schema = Arc::new(Schema::empty());
        let inner = futures::stream::poll_fn(|_| -> Poll<Option<Result<RecordBatch>>> {
            panic!("stream boom")
        });
        let inner: SendableRecordBatchStream =
            Box::pin(RecordBatchStreamAdapter::new(schema, inner));
        let mut guarded = GuardedStream::new(inner, "test stream");
        let first = guarded.next().await.expect("an item");
        assert!(first.unwrap_err().to_string().contains("stream boom"));
        assert!(guarded.next().await.is_none());
    }
}
