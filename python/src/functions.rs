//! The function plane's exports: ltseq's window functions as FFI capsules, what the DSL asks
//! about a window call before it runs, and the SQL reference.

use std::sync::Arc;

use datafusion::logical_expr::WindowUDF;
use datafusion_ffi::udwf::FFI_WindowUDF;
use ltseq_planner::ordered::guard::no_panic;
use ltseq_planner::window::{describe_call, CallArg, CallError};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::convert::{arrow_type, scalar, value_error, ArrowField};

/// One ltseq window function, exportable to a host `SessionContext`.
#[pyclass(module = "ltseq._native", frozen)]
pub(crate) struct WindowFunction {
    udwf: Arc<WindowUDF>,
}

#[pymethods]
impl WindowFunction {
    #[getter]
    fn name(&self) -> String {
        self.udwf.name().to_string()
    }

    /// The function's description, from its Rust `Documentation` (the FFI does not carry it
    /// to a host's `information_schema`).
    #[getter]
    fn description(&self) -> Option<String> {
        self.udwf.documentation().map(|d| d.description.clone())
    }

    /// The function's SQL syntax, from its `Documentation`.
    #[getter]
    fn syntax(&self) -> Option<String> {
        self.udwf.documentation().map(|d| d.syntax_example.clone())
    }

    fn __datafusion_window_udf__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let ffi = FFI_WindowUDF::from(Arc::clone(&self.udwf));
        PyCapsule::new_with_value(py, ffi, c"datafusion_window_udf")
    }

    fn __repr__(&self) -> String {
        format!("<ltseq window function {}>", self.udwf.name())
    }
}

/// Every ltseq window function.
#[pyfunction]
pub(crate) fn window_functions() -> Vec<WindowFunction> {
    ltseq_udf::all_window_udfs()
        .into_iter()
        .map(|udwf| WindowFunction { udwf })
        .collect()
}

/// The result type of the window call `function(args)` and whether ltseq's Window operator
/// evaluates it. `args` are `(kind, pyarrow type, value)` with kind `"value"` (a column or
/// expression), `"constant"` (checked as the function checks its constants) or `"opaque"` (a
/// constant whose value is not passed). Raises `TypeError` for arguments of the wrong type,
/// `ValueError` for wrong constants (a window size of 0), with the function's own message.
#[pyfunction]
pub(crate) fn describe_window_call(
    function: &str,
    args: Vec<(String, Bound<'_, PyAny>, Bound<'_, PyAny>)>,
) -> PyResult<(ArrowField, bool)> {
    let args = args
        .iter()
        .map(|(kind, t, v)| match kind.as_str() {
            "value" => Ok(CallArg::Value(arrow_type(t)?)),
            "constant" => Ok(CallArg::Constant(
                scalar(v)?.cast_to(&arrow_type(t)?).map_err(value_error)?,
            )),
            "opaque" => Ok(CallArg::Opaque(arrow_type(t)?)),
            other => Err(PyValueError::new_err(format!(
                "argument kind must be 'value', 'constant' or 'opaque', got {other:?}"
            ))),
        })
        .collect::<PyResult<Vec<_>>>()?;
    let described = no_panic("describe_window_call", || {
        Ok(describe_call(function, &args))
    });
    match described.map_err(value_error)? {
        Ok(info) => Ok((ArrowField::new(info.output), info.operator)),
        Err(CallError::Type(m)) => Err(PyTypeError::new_err(m)),
        Err(CallError::Value(m)) | Err(CallError::Unknown(m)) => Err(PyValueError::new_err(m)),
    }
}

/// The SQL reference generated from each function's documentation (`docs/sql-reference.md`).
#[pyfunction]
pub(crate) fn sql_reference_markdown() -> PyResult<String> {
    let functions = ltseq_udf::docs::sql_reference_markdown().map_err(|missing| {
        PyRuntimeError::new_err(format!(
            "functions without documentation: {}",
            missing.join(", ")
        ))
    })?;
    Ok(format!(
        "{functions}{}",
        ltseq_planner::reference::operators_markdown()
    ))
}
