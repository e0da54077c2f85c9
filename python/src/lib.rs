//! The `ltseq._native` extension module: exports ltseq's functions, operators, codecs and
//! query planner as DataFusion FFI PyCapsules, for a stock `datafusion` Python SessionContext.
//!
//! Nothing here runs queries; the host's DataFusion does. Every export is a small pyclass with
//! the `__datafusion_*__` method the host's `SessionContext` looks for (the protocol of
//! datafusion-python's FFI example crate), one file per kind of export:
//!
//! - [`functions`]: the window functions, what the DSL asks about a window call, the SQL
//!   reference;
//! - [`operators`]: the operators as tables (one `OperatorTable` class, one function each);
//! - [`table_functions`]: the SQL table functions, called by the host's Python table functions;
//! - [`ordered_table`]: in-memory data with its checked order declared to DataFusion;
//! - [`memory`]: the memory limit of ltseq's operators in a host session;
//! - [`codecs`]: the codecs and query planner of the planner route;
//! - [`convert`]: capsules, Arrow schemas and types, constants and errors crossing from Python.

use pyo3::prelude::*;

mod codecs;
mod convert;
mod functions;
mod memory;
mod operators;
mod ordered_table;
mod table_functions;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DATAFUSION_MAJOR", ltseq_udf::DATAFUSION_MAJOR)?;
    m.add_class::<functions::WindowFunction>()?;
    m.add_class::<operators::OperatorTable>()?;
    m.add_class::<codecs::Extension>()?;
    m.add_class::<convert::ArrowField>()?;
    m.add_function(wrap_pyfunction!(functions::window_functions, m)?)?;
    m.add_function(wrap_pyfunction!(functions::describe_window_call, m)?)?;
    m.add_function(wrap_pyfunction!(functions::sql_reference_markdown, m)?)?;
    m.add_function(wrap_pyfunction!(operators::sequence_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::window_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::group_ordered_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::link_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::asof_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::join_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::pattern_table, m)?)?;
    m.add_function(wrap_pyfunction!(operators::output_table, m)?)?;
    m.add_function(wrap_pyfunction!(table_functions::table_function_names, m)?)?;
    m.add_function(wrap_pyfunction!(table_functions::call_table_function, m)?)?;
    m.add_function(wrap_pyfunction!(ordered_table::ordered_table, m)?)?;
    m.add_function(wrap_pyfunction!(memory::set_memory_limit, m)?)?;
    m.add_function(wrap_pyfunction!(memory::memory_limit, m)?)?;
    Ok(())
}
