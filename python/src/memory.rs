//! The memory limit of ltseq's operators in a host session: DataFusion's FFI does not carry a
//! session's runtime, so `ltseq.register()` reads the host's `datafusion.runtime.memory_limit`
//! and gives it here (see `ltseq_planner::ordered::memory`).

use pyo3::prelude::*;

use crate::convert::value_error;

/// Sets (`None`: clears) the memory limit in bytes of ltseq's operators in session `session_id`.
#[pyfunction]
#[pyo3(signature = (session_id, limit))]
pub fn set_memory_limit(session_id: &str, limit: Option<usize>) -> PyResult<()> {
    ltseq_planner::ordered::memory::set_session_memory_limit(session_id, limit).map_err(value_error)
}

/// The memory limit set for session `session_id`, if any.
#[pyfunction]
pub fn memory_limit(session_id: &str) -> Option<usize> {
    ltseq_planner::ordered::memory::session_memory_limit(session_id)
}
