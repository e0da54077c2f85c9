//! The planner route's exports: ltseq's logical and physical codecs and its query planner, as
//! the extension bundle `SessionContext.with_extensions(...)` takes.

use std::sync::Arc;

use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_ffi::query_planner::FFI_QueryPlanner;
use ltseq_planner::{LtseqLogicalCodec, LtseqPhysicalCodec, LtseqQueryPlanner};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::convert::{capsule_value, runtime, task_ctx_provider};

/// The task-context provider of `session` when given, else `default`.
fn provider_for(
    default: &FFI_TaskContextProvider,
    session: Option<Bound<'_, PyAny>>,
) -> PyResult<FFI_TaskContextProvider> {
    match session {
        Some(s) if !s.is_none() => task_ctx_provider(&s),
        _ => Ok(default.clone()),
    }
}

/// ltseq's logical extension codec.
#[pyclass(module = "ltseq._native", frozen)]
struct LogicalCodec {
    provider: FFI_TaskContextProvider,
}

#[pymethods]
impl LogicalCodec {
    #[classattr]
    fn __datafusion_codec_id__() -> &'static str {
        "ltseq.logical.v1"
    }

    #[pyo3(signature = (session=None))]
    fn __datafusion_logical_extension_codec__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let ffi = FFI_LogicalExtensionCodec::new(
            Arc::new(LtseqLogicalCodec),
            Some(runtime()?.handle().clone()),
            provider_for(&self.provider, session)?,
        );
        PyCapsule::new_with_value(py, ffi, c"datafusion_logical_extension_codec")
    }
}

/// ltseq's physical extension codec.
#[pyclass(module = "ltseq._native", frozen)]
struct PhysicalCodec {
    provider: FFI_TaskContextProvider,
}

#[pymethods]
impl PhysicalCodec {
    #[classattr]
    fn __datafusion_codec_id__() -> &'static str {
        "ltseq.physical.v1"
    }

    #[pyo3(signature = (session=None))]
    fn __datafusion_physical_extension_codec__<'py>(
        &self,
        py: Python<'py>,
        session: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let ffi = FFI_PhysicalExtensionCodec::new(
            Arc::new(LtseqPhysicalCodec),
            Some(runtime()?.handle().clone()),
            provider_for(&self.provider, session)?,
        );
        PyCapsule::new_with_value(py, ffi, c"datafusion_physical_extension_codec")
    }
}

/// ltseq's query planner for the host's session (it plans every query itself: see
/// `LtseqQueryPlanner::in_foreign_host`).
#[pyclass(module = "ltseq._native", frozen)]
struct Planner;

#[pymethods]
impl Planner {
    fn __datafusion_query_planner__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let logical: FFI_LogicalExtensionCodec = capsule_value(
            &session,
            "__datafusion_logical_extension_codec__",
            c"datafusion_logical_extension_codec",
        )?;
        let physical: FFI_PhysicalExtensionCodec = capsule_value(
            &session,
            "__datafusion_physical_extension_codec__",
            c"datafusion_physical_extension_codec",
        )?;
        let planner = Arc::new(LtseqQueryPlanner::in_foreign_host());
        let ffi = FFI_QueryPlanner::new_with_ffi_codecs(planner, logical, physical);
        PyCapsule::new_with_value(py, ffi, c"datafusion_query_planner")
    }
}

/// The extension bundle for `SessionContext.with_extensions(...)`: ltseq's codecs, then its
/// query planner wrapping whatever planner the session had.
#[pyclass(module = "ltseq._native", frozen)]
pub(crate) struct Extension;

#[pymethods]
impl Extension {
    #[new]
    fn new() -> Self {
        Extension
    }

    fn __datafusion_session_components__<'py>(
        &self,
        py: Python<'py>,
        ctx: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let provider = task_ctx_provider(&ctx)?;
        let logical = Py::new(
            py,
            LogicalCodec {
                provider: provider.clone(),
            },
        )?;
        let physical = Py::new(py, PhysicalCodec { provider })?;
        let components = py
            .import("datafusion")?
            .getattr("SessionExtensionComponents")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("logical_extension_codecs", (logical,))?;
        kwargs.set_item("physical_extension_codecs", (physical,))?;
        components.call((), Some(&kwargs))
    }

    fn __datafusion_session_planner__<'py>(
        &self,
        py: Python<'py>,
        _ctx: Bound<'py, PyAny>,
        _fallback: Bound<'py, PyAny>,
    ) -> PyResult<Py<Planner>> {
        Py::new(py, Planner)
    }
}
