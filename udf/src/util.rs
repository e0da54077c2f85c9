//! Small helpers shared by the evaluators.

use std::panic::{catch_unwind, AssertUnwindSafe};

use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};

/// Runs `f`, turning a panic into a `DataFusionError` so that no panic can cross the FFI
/// boundary (a panic in a synchronous FFI callback aborts the host process).
pub(crate) fn no_panic<T>(function: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(DataFusionError::Execution(format!(
                "internal error in ltseq function {function}: {detail}"
            )))
        }
    }
}

/// Whether values of `dt` can be compared for equality by ltseq's vectorized kernels
/// (arrow's `distinct` comparison).
pub(crate) fn is_equality_comparable(dt: &DataType) -> bool {
    use DataType::*;
    match dt {
        Null
        | Boolean
        | Int8
        | Int16
        | Int32
        | Int64
        | UInt8
        | UInt16
        | UInt32
        | UInt64
        | Float16
        | Float32
        | Float64
        | Timestamp(_, _)
        | Date32
        | Date64
        | Time32(_)
        | Time64(_)
        | Duration(_)
        | Interval(_)
        | Binary
        | FixedSizeBinary(_)
        | LargeBinary
        | BinaryView
        | Utf8
        | LargeUtf8
        | Utf8View
        | Decimal32(_, _)
        | Decimal64(_, _)
        | Decimal128(_, _)
        | Decimal256(_, _) => true,
        Dictionary(_, value) => is_equality_comparable(value),
        _ => false,
    }
}
