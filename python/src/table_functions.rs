//! ltseq's table functions for a stock context, through the host's Python table functions.
//!
//! An FFI table function aborts the host intermittently (see `docs/architecture.md`), so
//! `ltseq.register(ctx)` registers, for each table function, a Python table function that
//! receives the calling session and calls [`call_table_function`]: the Rust function itself
//! (the one a Rust session registers), whose input tables the host looks up by name, and
//! whose table comes back as an [`OperatorTable`] through the reliable table-provider route.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Column;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use ltseq_planner::ordered::table_not_found;
use ltseq_planner::{table_functions, Tables};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{arrow_schema, scalar, value_error};
use crate::operators::OperatorTable;

/// The names of ltseq's table functions.
#[pyfunction]
pub(crate) fn table_function_names() -> Vec<&'static str> {
    table_functions().map(|f| f.name).collect()
}

/// An argument as Python passes it: `(True, constant)` for a literal, `(False, sql)` for any
/// other expression (which the function then reports as not a literal).
type PyArgument<'py> = (bool, Bound<'py, PyAny>);

/// Calls ltseq's table function `name` with `args`; `lookup(name)` returns the pyarrow schema
/// of the host's table `name` (or raises).
#[pyfunction]
pub(crate) fn call_table_function(
    name: &str,
    args: Vec<PyArgument<'_>>,
    lookup: Bound<'_, PyAny>,
) -> PyResult<OperatorTable> {
    let function = table_functions()
        .find(|f| f.name == name)
        .ok_or_else(|| PyValueError::new_err(format!("no ltseq table function {name:?}")))?;
    let args = args
        .into_iter()
        .map(|(literal, value)| {
            Ok(if literal {
                Expr::Literal(scalar(&value)?, None)
            } else {
                Expr::Column(Column::from_name(value.extract::<String>()?))
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let provider = function
        .call(&args, &HostTables(lookup))
        .map_err(value_error)?;
    Ok(OperatorTable::from_arc(provider, function.name))
}

/// The host's tables, looked up by a Python callable.
struct HostTables<'py>(Bound<'py, PyAny>);

impl Tables for HostTables<'_> {
    fn schema_of(&self, name: &str, who: &str) -> Result<SchemaRef> {
        let schema = self
            .0
            .call1((name,))
            .map_err(|_| table_not_found(who, name))?;
        arrow_schema(&schema).map_err(|e| DataFusionError::Plan(format!("{who}: {e}")))
    }
}
