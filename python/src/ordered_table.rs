//! In-memory data registered with its (checked) order declared to DataFusion
//! (`ltseq.register_ordered`).

use std::ptr::NonNull;

use datafusion::arrow::array::RecordBatchReader;
use datafusion::arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use ltseq_planner::ordered::declared::ordered_memory_table;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::convert::value_error;
use crate::operators::OperatorTable;

/// A memory table of `data` (anything with `__arrow_c_stream__`, read in its order), in at most
/// `partitions` consecutive ranges, declared sorted by `order_by` (ascending, NULLs last);
/// a `ValueError` names the first row out of that order.
#[pyfunction]
pub(crate) fn ordered_table(
    py: Python<'_>,
    data: Bound<'_, PyAny>,
    order_by: Vec<String>,
    partitions: usize,
) -> PyResult<OperatorTable> {
    let capsule = data.call_method1("__arrow_c_stream__", (py.None(),))?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_stream__ must return a capsule"))?;
    let pointer: NonNull<FFI_ArrowArrayStream> =
        capsule.pointer_checked(Some(c"arrow_array_stream"))?.cast();
    // SAFETY: the capsule's name guarantees an Arrow C stream; `from_raw` moves it out and
    // leaves a released stream behind, which the capsule's destructor then ignores.
    let reader = unsafe { ArrowArrayStreamReader::from_raw(pointer.as_ptr()) }
        .map_err(|e| PyValueError::new_err(format!("cannot read the Arrow stream: {e}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("cannot read the Arrow stream: {e}")))?;
    let table = ordered_memory_table(schema, batches, &order_by, partitions, "register_ordered")
        .map_err(value_error)?;
    Ok(OperatorTable::from_arc(
        std::sync::Arc::new(table),
        "ordered memory",
    ))
}
