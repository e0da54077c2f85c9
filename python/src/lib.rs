//! The `ltseq._native` extension module: exports ltseq's functions, table functions, codecs and
//! query planner as DataFusion FFI PyCapsules, for a stock `datafusion` Python SessionContext.
//!
//! Nothing here runs queries; the host's DataFusion does. Every export is a small pyclass with
//! the `__datafusion_*__` method the host's `SessionContext` looks for (the same protocol as
//! datafusion-python's FFI example crate).

use std::ffi::CStr;
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::ffi::FFI_ArrowSchema;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::WindowUDF;
use datafusion_ffi::execution::FFI_TaskContextProvider;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::proto::physical_extension_codec::FFI_PhysicalExtensionCodec;
use datafusion_ffi::query_planner::FFI_QueryPlanner;
use datafusion_ffi::table_provider::FFI_TableProvider;
use datafusion_ffi::udwf::FFI_WindowUDF;
use ltseq_planner::{
    AggCall, Boundary, GroupOrderedTableProvider, Lag, LinkJoin, LinkSpec, LinkTableProvider,
    LtseqLogicalCodec, LtseqPhysicalCodec, LtseqQueryPlanner, PatternOutput, PatternTableProvider,
    SequenceTableProvider, SplitPredicate, WindowArg, WindowCall, WindowTableProvider,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// The tokio runtime ltseq's FFI objects use for callbacks that need one.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
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
/// `method` that returns one (called with `args`).
fn capsule_value<T: Clone>(
    obj: &Bound<'_, PyAny>,
    method: &str,
    name: &CStr,
    with_session: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    let capsule = if obj.hasattr(method)? {
        match with_session {
            Some(s) => obj.getattr(method)?.call1((s,))?,
            None => obj.getattr(method)?.call0()?,
        }
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

fn task_ctx_provider(session: &Bound<'_, PyAny>) -> PyResult<FFI_TaskContextProvider> {
    capsule_value(
        session,
        "__datafusion_task_context_provider__",
        c"datafusion_task_context_provider",
        None,
    )
}

/// One ltseq window function, exportable to a host `SessionContext`.
#[pyclass(module = "ltseq._native", frozen)]
struct WindowFunction {
    udwf: Arc<WindowUDF>,
}

#[pymethods]
impl WindowFunction {
    #[getter]
    fn name(&self) -> String {
        self.udwf.name().to_string()
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
fn window_functions() -> Vec<WindowFunction> {
    ltseq_udf::all_window_udfs()
        .into_iter()
        .map(|udwf| WindowFunction { udwf })
        .collect()
}

/// The `Sequence` operator over a named input, as a table for `ctx.register_table` (the
/// table-provider route). ltseq exports no table functions to Python: with the datafusion
/// 55.0.0 wheel an FFI table function intermittently aborts the host after it returns (see
/// `docs/architecture.md`), while table providers are reliable.
#[pyclass(module = "ltseq._native", frozen)]
struct SequenceTable {
    provider: Arc<SequenceTableProvider>,
}

#[pymethods]
impl SequenceTable {
    /// `input`: the name of the input table in the session; `schema`: its Arrow schema (any
    /// object with `__arrow_c_schema__`); `ordinal`: the name of the ordinal column.
    #[new]
    #[pyo3(signature = (input, schema, ordinal = ltseq_planner::DEFAULT_ORDINAL_COLUMN.to_string()))]
    fn new(input: String, schema: Bound<'_, PyAny>, ordinal: String) -> PyResult<Self> {
        let schema = arrow_schema(&schema)?;
        let provider = SequenceTableProvider::try_new(input, Arc::new(schema), ordinal)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self {
            provider: Arc::new(provider),
        })
    }

    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        table_provider_capsule(py, &session, self.provider.clone())
    }
}

/// A table provider as the FFI capsule a host's `register_table` takes, with the host's logical
/// codec (so the host can serialize plans that scan it).
fn table_provider_capsule<'py>(
    py: Python<'py>,
    session: &Bound<'py, PyAny>,
    provider: Arc<dyn TableProvider>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let codec: FFI_LogicalExtensionCodec = capsule_value(
        session,
        "__datafusion_logical_extension_codec__",
        c"datafusion_logical_extension_codec",
        None,
    )?;
    let ffi = FFI_TableProvider::new_with_ffi_codec(provider, false, None, codec);
    PyCapsule::new_with_value(py, ffi, c"datafusion_table_provider")
}

/// An Arrow schema from any object with `__arrow_c_schema__` (a pyarrow schema).
fn arrow_schema(schema: &Bound<'_, PyAny>) -> PyResult<Schema> {
    let capsule = schema.call_method0("__arrow_c_schema__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_schema__ must return a capsule"))?;
    let pointer: NonNull<FFI_ArrowSchema> = capsule.pointer_checked(Some(c"arrow_schema"))?.cast();
    // SAFETY: the capsule's name guarantees an Arrow C schema; it is only read.
    Schema::try_from(unsafe { pointer.as_ref() })
        .map_err(|e| PyValueError::new_err(format!("invalid Arrow schema: {e}")))
}

/// A Python constant (None, bool, int, float, str) as a scalar.
fn scalar(value: &Bound<'_, PyAny>) -> PyResult<ScalarValue> {
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
    } else {
        Err(PyTypeError::new_err(format!(
            "window arguments are columns or None/bool/int/float/str constants, got {value}"
        )))
    }
}

/// A window call as Python passes it: `(function, [(kind, value), ...], output)`.
type PyWindowCall<'py> = (String, Vec<(String, Bound<'py, PyAny>)>, String);

/// The `Window` operator over a named input table, as a table for `ctx.register_table`. The
/// input must deliver its rows in window order, each `partition_by` partition contiguous.
#[pyclass(module = "ltseq._native", frozen)]
struct WindowTable {
    provider: Arc<WindowTableProvider>,
}

#[pymethods]
impl WindowTable {
    /// `calls`: `(function, args, output)` where each arg is `("column", name)` or
    /// `("literal", value)`.
    /// `ordinal`: when given, the input is in order by this column as the `Sequence`
    /// operator numbers rows (its partitions need not be merged by the host).
    #[new]
    #[pyo3(signature = (input, schema, partition_by, calls, ordinal = None))]
    fn new(
        input: String,
        schema: Bound<'_, PyAny>,
        partition_by: Vec<String>,
        calls: Vec<PyWindowCall<'_>>,
        ordinal: Option<String>,
    ) -> PyResult<Self> {
        let schema = arrow_schema(&schema)?;
        let calls = calls
            .into_iter()
            .map(|(function, args, output)| {
                let args = args
                    .into_iter()
                    .map(|(kind, value)| match kind.as_str() {
                        "column" => Ok(WindowArg::Column(value.extract::<String>()?)),
                        "literal" => Ok(WindowArg::Literal(scalar(&value)?)),
                        other => Err(PyValueError::new_err(format!(
                            "window argument kind must be 'column' or 'literal', got {other:?}"
                        ))),
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(WindowCall {
                    function,
                    args,
                    output,
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let provider =
            WindowTableProvider::try_new(input, Arc::new(schema), ordinal, partition_by, calls)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self {
            provider: Arc::new(provider),
        })
    }

    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        table_provider_capsule(py, &session, self.provider.clone())
    }
}

/// The `GroupOrdered` operator over a named input table, as a table for `ctx.register_table`:
/// one row per group of consecutive rows (`__group_id__`, then the aggregates).
#[pyclass(module = "ltseq._native", frozen)]
struct GroupOrderedTable {
    provider: Arc<GroupOrderedTableProvider>,
}

#[pymethods]
impl GroupOrderedTable {
    /// `keys`: group where these columns change; or `split`: a BOOLEAN column, true where a
    /// group starts; or `predicate`: a SQL condition over the input columns and `lags`
    /// (`(column, offset, name)`: the column's value `offset` rows earlier), true where a group
    /// starts, evaluated in the operator. `aggs`: `(function, [argument columns], output)`.
    #[new]
    /// `dense_ids=False`: the group ids need only rise (stored-order input is then grouped in
    /// parallel).
    #[pyo3(signature = (input, schema, partition_by, aggs, keys = None, split = None, ordinal = None, predicate = None, lags = None, dense_ids = true))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        input: String,
        schema: Bound<'_, PyAny>,
        partition_by: Vec<String>,
        aggs: Vec<(String, Vec<String>, String)>,
        keys: Option<Vec<String>>,
        split: Option<String>,
        ordinal: Option<String>,
        predicate: Option<String>,
        lags: Option<Vec<(String, usize, String)>>,
        dense_ids: bool,
    ) -> PyResult<Self> {
        let schema = arrow_schema(&schema)?;
        let boundary = match (keys, split, predicate) {
            (Some(k), None, None) => Boundary::Keys(k),
            (None, Some(s), None) => Boundary::Split(s),
            (None, None, Some(sql)) => Boundary::Predicate(SplitPredicate {
                sql,
                lags: lags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(column, offset, name)| Lag {
                        column,
                        offset,
                        name,
                    })
                    .collect(),
            }),
            _ => {
                return Err(PyValueError::new_err(
                    "give exactly one of keys=, split= and predicate=",
                ))
            }
        };
        if let Boundary::Predicate(p) = &boundary {
            p.compile(&schema)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        let aggs = aggs
            .into_iter()
            .map(|(function, args, output)| AggCall {
                function,
                args,
                output,
            })
            .collect();
        let provider = GroupOrderedTableProvider::try_new(
            input,
            Arc::new(schema),
            ordinal,
            partition_by,
            boundary,
            aggs,
        )
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let provider = if dense_ids {
            provider
        } else {
            provider.with_rising_ids()
        };
        Ok(Self {
            provider: Arc::new(provider),
        })
    }

    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        table_provider_capsule(py, &session, self.provider.clone())
    }
}

/// The `Link` operator over two named tables, as a table for `ctx.register_table`: the
/// source's columns, then the target's columns named `prefix + column`.
#[pyclass(module = "ltseq._native", frozen)]
struct LinkTable {
    provider: Arc<LinkTableProvider>,
}

#[pymethods]
impl LinkTable {
    #[new]
    #[pyo3(signature = (source, source_schema, target, target_schema, source_keys, target_keys, prefix, join = "left"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        source: String,
        source_schema: Bound<'_, PyAny>,
        target: String,
        target_schema: Bound<'_, PyAny>,
        source_keys: Vec<String>,
        target_keys: Vec<String>,
        prefix: String,
        join: &str,
    ) -> PyResult<Self> {
        let err = |e: datafusion::error::DataFusionError| PyValueError::new_err(e.to_string());
        let spec = LinkSpec {
            source_keys,
            target_keys,
            fetch: vec![],
            prefix,
            join: LinkJoin::parse(join).map_err(err)?,
        };
        let provider = LinkTableProvider::try_new(
            source,
            Arc::new(arrow_schema(&source_schema)?),
            target,
            Arc::new(arrow_schema(&target_schema)?),
            spec,
        )
        .map_err(err)?;
        Ok(Self {
            provider: Arc::new(provider),
        })
    }

    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        table_provider_capsule(py, &session, self.provider.clone())
    }
}

/// The `Pattern` operator (ordered search) over a named input table, as a table: the rows
/// where the steps match on consecutive rows (without the step columns), or their count.
#[pyclass(module = "ltseq._native", frozen)]
struct PatternTable {
    provider: Arc<PatternTableProvider>,
}

#[pymethods]
impl PatternTable {
    #[new]
    #[pyo3(signature = (input, schema, steps, partition_by, ordinal = None, count = false, fetch = None))]
    fn new(
        input: String,
        schema: Bound<'_, PyAny>,
        steps: Vec<String>,
        partition_by: Vec<String>,
        ordinal: Option<String>,
        count: bool,
        fetch: Option<usize>,
    ) -> PyResult<Self> {
        let output = if count {
            PatternOutput::Count
        } else {
            PatternOutput::Rows { fetch }
        };
        let provider = PatternTableProvider::try_new(
            input,
            Arc::new(arrow_schema(&schema)?),
            ordinal,
            steps,
            partition_by,
            output,
        )
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self {
            provider: Arc::new(provider),
        })
    }

    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        table_provider_capsule(py, &session, self.provider.clone())
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
        let provider = match session {
            Some(s) if !s.is_none() => task_ctx_provider(&s)?,
            _ => self.provider.clone(),
        };
        let ffi = FFI_LogicalExtensionCodec::new(
            Arc::new(LtseqLogicalCodec),
            Some(runtime()?.handle().clone()),
            provider,
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
        let provider = match session {
            Some(s) if !s.is_none() => task_ctx_provider(&s)?,
            _ => self.provider.clone(),
        };
        let ffi = FFI_PhysicalExtensionCodec::new(
            Arc::new(LtseqPhysicalCodec),
            Some(runtime()?.handle().clone()),
            provider,
        );
        PyCapsule::new_with_value(py, ffi, c"datafusion_physical_extension_codec")
    }
}

/// ltseq's query planner, wrapping the host's planner (`fallback`).
#[pyclass(module = "ltseq._native", frozen)]
struct Planner {
    fallback: FFI_QueryPlanner,
}

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
            None,
        )?;
        let physical: FFI_PhysicalExtensionCodec = capsule_value(
            &session,
            "__datafusion_physical_extension_codec__",
            c"datafusion_physical_extension_codec",
            None,
        )?;
        let fallback: Arc<dyn QueryPlanner + Send + Sync> = (&self.fallback).into();
        let planner = Arc::new(LtseqQueryPlanner::new(Some(fallback)));
        let ffi = FFI_QueryPlanner::new_with_ffi_codecs(planner, logical, physical);
        PyCapsule::new_with_value(py, ffi, c"datafusion_query_planner")
    }
}

/// The extension bundle for `SessionContext.with_extensions(...)`: ltseq's codecs, then its
/// query planner wrapping whatever planner the session had.
#[pyclass(module = "ltseq._native", frozen)]
struct Extension;

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
        fallback: Bound<'py, PyAny>,
    ) -> PyResult<Py<Planner>> {
        let fallback: FFI_QueryPlanner = capsule_value(
            &fallback,
            "__datafusion_query_planner__",
            c"datafusion_query_planner",
            None,
        )?;
        Py::new(py, Planner { fallback })
    }
}

/// The SQL reference generated from each function's documentation (`docs/sql-reference.md`).
#[pyfunction]
fn sql_reference_markdown() -> PyResult<String> {
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

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DATAFUSION_MAJOR", ltseq_udf::DATAFUSION_MAJOR)?;
    m.add_class::<WindowFunction>()?;
    m.add_class::<Extension>()?;
    m.add_class::<SequenceTable>()?;
    m.add_class::<WindowTable>()?;
    m.add_class::<GroupOrderedTable>()?;
    m.add_class::<LinkTable>()?;
    m.add_class::<PatternTable>()?;
    m.add_function(wrap_pyfunction!(window_functions, m)?)?;
    m.add_function(wrap_pyfunction!(sql_reference_markdown, m)?)?;
    Ok(())
}
