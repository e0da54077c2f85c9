//! Values crossing from Python: FFI structs inside PyCapsules, Arrow schemas and types,
//! constants, and DataFusion errors as Python exceptions.

use std::ffi::CStr;
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ffi::FFI_ArrowSchema;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion_ffi::execution::FFI_TaskContextProvider;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// The tokio runtime ltseq's FFI objects use for callbacks and streams that need one (a
/// stream polled by the host runs inside it, so operators may spawn tasks).
pub(crate) fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("ltseq-ffi")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| PyRuntimeError::new_err(format!("ltseq could not start its runtime: {e}")))
}

/// Reads the FFI struct out of `obj`, which is a capsule named `name` or has a method
/// `method` that returns one.
pub(crate) fn capsule_value<T: Clone>(
    obj: &Bound<'_, PyAny>,
    method: &str,
    name: &CStr,
) -> PyResult<T> {
    let capsule = if obj.hasattr(method)? {
        obj.getattr(method)?.call0()?
    } else {
        obj.clone()
    };
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        PyTypeError::new_err(format!("expected a {} capsule", name.to_string_lossy()))
    })?;
    let pointer: NonNull<T> = capsule.pointer_checked(Some(name))?.cast();
    // SAFETY: the capsule's name guarantees the pointee type; we only clone it.
    Ok(unsafe { pointer.as_ref() }.clone())
}

pub(crate) fn task_ctx_provider(session: &Bound<'_, PyAny>) -> PyResult<FFI_TaskContextProvider> {
    capsule_value(
        session,
        "__datafusion_task_context_provider__",
        c"datafusion_task_context_provider",
    )
}

/// The Arrow C schema of any object with `__arrow_c_schema__` (a pyarrow schema, field or type).
fn arrow_c_schema<T>(
    obj: &Bound<'_, PyAny>,
    read: impl FnOnce(&FFI_ArrowSchema) -> Result<T, String>,
) -> PyResult<T> {
    let capsule = obj.call_method0("__arrow_c_schema__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_schema__ must return a capsule"))?;
    let pointer: NonNull<FFI_ArrowSchema> = capsule.pointer_checked(Some(c"arrow_schema"))?.cast();
    // SAFETY: the capsule's name guarantees an Arrow C schema; it is only read.
    read(unsafe { pointer.as_ref() }).map_err(PyValueError::new_err)
}

/// An Arrow schema from a pyarrow schema.
pub(crate) fn arrow_schema(schema: &Bound<'_, PyAny>) -> PyResult<Arc<Schema>> {
    arrow_c_schema(schema, |s| {
        Schema::try_from(s)
            .map(Arc::new)
            .map_err(|e| format!("invalid Arrow schema: {e}"))
    })
}

/// An Arrow type from a pyarrow type.
pub(crate) fn arrow_type(data_type: &Bound<'_, PyAny>) -> PyResult<DataType> {
    arrow_c_schema(data_type, |s| {
        DataType::try_from(s).map_err(|e| format!("invalid Arrow type: {e}"))
    })
}

/// An Arrow type as something pyarrow reads (`pyarrow.field(obj).type`).
#[pyclass(module = "ltseq._native", frozen)]
pub(crate) struct ArrowField {
    field: Field,
}

impl ArrowField {
    pub(crate) fn new(data_type: DataType) -> Self {
        Self {
            field: Field::new("value", data_type, true),
        }
    }
}

#[pymethods]
impl ArrowField {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_schema__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let ffi = FFI_ArrowSchema::try_from(&self.field)
            .map_err(|e| PyValueError::new_err(format!("cannot export {}: {e}", self.field)))?;
        PyCapsule::new_with_value(py, ffi, c"arrow_schema")
    }
}

/// A Python constant (None, bool, int, float, str) as a scalar.
pub(crate) fn scalar(value: &Bound<'_, PyAny>) -> PyResult<ScalarValue> {
    if value.is_none() {
        Ok(ScalarValue::Null)
    } else if let Ok(b) = value.cast::<pyo3::types::PyBool>() {
        Ok(ScalarValue::Boolean(Some(b.is_true())))
    } else if let Ok(i) = value.extract::<i64>() {
        Ok(ScalarValue::Int64(Some(i)))
    } else if let Ok(f) = value.extract::<f64>() {
        Ok(ScalarValue::Float64(Some(f)))
    } else if let Ok(s) = value.extract::<String>() {
        Ok(ScalarValue::Utf8(Some(s)))
    } else if value.get_type().name()? == "timedelta" {
        let part = |name: &str| value.getattr(name)?.extract::<i64>();
        let micros =
            part("days")? * 86_400_000_000 + part("seconds")? * 1_000_000 + part("microseconds")?;
        Ok(ScalarValue::DurationMicrosecond(Some(micros)))
    } else {
        Err(PyTypeError::new_err(format!(
            "constants are None/bool/int/float/str/timedelta, got {value}"
        )))
    }
}

/// A DataFusion error as a `ValueError` with its message.
pub(crate) fn value_error(e: DataFusionError) -> PyErr {
    PyValueError::new_err(e.strip_backtrace())
}
