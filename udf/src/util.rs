//! Small helpers shared by the evaluators.

use std::panic::{catch_unwind, AssertUnwindSafe};

use datafusion::arrow::array::{ArrayRef, ArrowPrimitiveType, PrimitiveArray};
use datafusion::arrow::datatypes::{i256, DataType, Decimal128Type, DecimalType};
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

/// An exact decimal sum as a DECIMAL(38, scale) value, or an error naming `function` when it
/// does not fit in 38 digits (a decimal sum never wraps).
pub(crate) fn decimal38(function: &str, sum: i256, scale: i8) -> Result<i128> {
    sum.to_i128()
        .filter(|v| Decimal128Type::is_valid_decimal_precision(*v, 38))
        .ok_or_else(|| {
            DataFusionError::Execution(format!(
                "{function}: the sum overflows DECIMAL(38, {scale}); cast the input to DOUBLE to sum it approximately"
            ))
        })
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

/// Builds a primitive array value by value: values and validity bits go straight into
/// buffers (no per-value `Option` collection, no per-bit capacity checks).
pub(crate) struct NullableBuilder<T: datafusion::arrow::datatypes::ArrowPrimitiveType> {
    values: Vec<T::Native>,
    bits: Vec<u64>,
    word: u64,
    len: usize,
    nulls: usize,
}

impl<T: datafusion::arrow::datatypes::ArrowPrimitiveType> NullableBuilder<T> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            values: Vec::with_capacity(n),
            bits: Vec::with_capacity(n / 64 + 1),
            word: 0,
            len: 0,
            nulls: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, value: Option<T::Native>) {
        let (v, valid) = match value {
            Some(v) => (v, 1u64),
            None => (T::Native::default(), 0u64),
        };
        self.values.push(v);
        self.word |= valid << (self.len & 63);
        self.nulls += (1 - valid) as usize;
        self.len += 1;
        if self.len & 63 == 0 {
            self.bits.push(self.word);
            self.word = 0;
        }
    }

    pub(crate) fn finish(mut self) -> datafusion::arrow::array::PrimitiveArray<T> {
        use datafusion::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer};
        let nulls = if self.nulls > 0 {
            if self.len & 63 != 0 {
                self.bits.push(self.word);
            }
            let buffer = Buffer::from_vec(self.bits);
            Some(NullBuffer::new(BooleanBuffer::new(buffer, 0, self.len)))
        } else {
            None
        };
        datafusion::arrow::array::PrimitiveArray::<T>::new(self.values.into(), nulls)
    }
}

/// `x` as a primitive array of type `T` (an internal error if it is not one).
pub(crate) fn as_primitive<T: ArrowPrimitiveType>(x: &ArrayRef) -> Result<&PrimitiveArray<T>> {
    x.as_any()
        .downcast_ref::<PrimitiveArray<T>>()
        .ok_or_else(|| {
            DataFusionError::Internal(format!("unexpected array type {}", x.data_type()))
        })
}
