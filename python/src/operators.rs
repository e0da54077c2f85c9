//! The operators, as tables for a host's `ctx.register_table` (the table-provider route).
//!
//! ltseq exports no FFI table functions: with the datafusion 55.0.0 wheel an FFI table function
//! intermittently aborts the host after it returns (see `docs/architecture.md`), while table
//! providers are reliable. Each function here builds one operator's table over named inputs
//! for the DSL; all of them, and the tables of ltseq's SQL table functions
//! (`table_functions.rs`), come back as one [`OperatorTable`].

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion_ffi::proto::logical_extension_codec::FFI_LogicalExtensionCodec;
use datafusion_ffi::table_provider::FFI_TableProvider;
use ltseq_planner::asof::{AsofSpec, AsofStrategy, AsofTableProvider, Tolerance};
use ltseq_planner::group_ordered::{
    AggCall, Boundary, GroupOrderedTableProvider, Lag, SplitPredicate,
};
use ltseq_planner::join::{JoinKind, JoinSpec, JoinTableProvider};
use ltseq_planner::link::{LinkJoin, LinkSpec, LinkTableProvider};
use ltseq_planner::ordered::{InputTable, OrderedInput};
use ltseq_planner::output::{OutputTableProvider, SortKey};
use ltseq_planner::pattern::{PatternOutput, PatternTableProvider};
use ltseq_planner::sequence::{SequenceTableProvider, DEFAULT_ORDINAL_COLUMN};
use ltseq_planner::window::{WindowArg, WindowCall, WindowTableProvider};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::convert::{arrow_schema, capsule_value, scalar, value_error};

/// One of ltseq's operators as a table, for `ctx.register_table(name, table)`.
#[pyclass(module = "ltseq._native", frozen)]
pub(crate) struct OperatorTable {
    provider: Arc<dyn TableProvider>,
    kind: &'static str,
}

impl OperatorTable {
    fn new(provider: impl TableProvider + 'static, kind: &'static str) -> Self {
        Self::from_arc(Arc::new(provider), kind)
    }

    pub(crate) fn from_arc(provider: Arc<dyn TableProvider>, kind: &'static str) -> Self {
        Self { provider, kind }
    }
}

#[pymethods]
impl OperatorTable {
    /// The table as the FFI capsule a host's `register_table` takes, with the host's logical
    /// codec (so the host can serialize plans that scan it).
    fn __datafusion_table_provider__<'py>(
        &self,
        py: Python<'py>,
        session: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let codec: FFI_LogicalExtensionCodec = capsule_value(
            &session,
            "__datafusion_logical_extension_codec__",
            c"datafusion_logical_extension_codec",
        )?;
        // No runtime: ltseq's operators spawn no tasks (a task of ltseq's runtime that polls
        // a host's plan aborts the process), and DataFusion's merges run inline without one.
        let ffi =
            FFI_TableProvider::new_with_ffi_codec(Arc::clone(&self.provider), false, None, codec);
        PyCapsule::new_with_value(py, ffi, c"datafusion_table_provider")
    }

    fn __repr__(&self) -> String {
        format!("<ltseq {} table>", self.kind)
    }
}

/// The `Sequence` operator over the table `input` (schema `schema`): its rows in input order
/// plus the ordinal column `ordinal`.
#[pyfunction]
#[pyo3(signature = (input, schema, ordinal = DEFAULT_ORDINAL_COLUMN.to_string()))]
pub(crate) fn sequence_table(
    input: String,
    schema: Bound<'_, PyAny>,
    ordinal: String,
) -> PyResult<OperatorTable> {
    let provider = SequenceTableProvider::try_new(input, arrow_schema(&schema)?, ordinal)
        .map_err(value_error)?;
    Ok(OperatorTable::new(provider, "sequence"))
}

/// A window call as Python passes it: `(function, [(kind, value), ...], output)`, each argument
/// `("column", name)` or `("literal", constant)`.
type PyWindowCall<'py> = (String, Vec<(String, Bound<'py, PyAny>)>, String);

/// The `Window` operator over `input`, which delivers its rows in window order (one ordered
/// partition, or with `ordinal` ltseq's stored order), each `partition_by` partition
/// contiguous.
#[pyfunction]
#[pyo3(signature = (input, schema, partition_by, calls, ordinal = None))]
pub(crate) fn window_table(
    input: String,
    schema: Bound<'_, PyAny>,
    partition_by: Vec<String>,
    calls: Vec<PyWindowCall<'_>>,
    ordinal: Option<String>,
) -> PyResult<OperatorTable> {
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
    let input = OrderedInput::new(input, arrow_schema(&schema)?, ordinal).map_err(value_error)?;
    let provider = WindowTableProvider::try_new(input, partition_by, calls).map_err(value_error)?;
    Ok(OperatorTable::new(provider, "window"))
}

/// The `GroupOrdered` operator over `input`: one row per group of consecutive rows
/// (`__group_id__`, then the aggregates `(function, [argument columns], output)`). Groups start
/// where the `keys` change, or where the BOOLEAN column `split` is true, or where `predicate` (a
/// SQL condition over the input columns and the `lags` `(column, offset, name)`, evaluated in
/// the operator) holds. `dense_ids=False`: the group ids need only rise (stored-order input is
/// then grouped in parallel).
#[pyfunction]
#[pyo3(signature = (input, schema, partition_by, aggs, keys = None, split = None, ordinal = None, predicate = None, lags = None, dense_ids = true))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn group_ordered_table(
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
) -> PyResult<OperatorTable> {
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
    let aggs = aggs
        .into_iter()
        .map(|(function, args, output)| AggCall {
            function,
            args,
            output,
        })
        .collect();
    let input = OrderedInput::new(input, arrow_schema(&schema)?, ordinal).map_err(value_error)?;
    let provider = GroupOrderedTableProvider::try_new(input, partition_by, boundary, aggs)
        .map_err(value_error)?;
    let provider = if dense_ids {
        provider
    } else {
        provider.with_rising_ids()
    };
    Ok(OperatorTable::new(provider, "group_ordered"))
}

/// The `Link` operator from the table `source` to the table `target`: the source's columns,
/// then the target's columns named `prefix + column`.
#[pyfunction]
#[pyo3(signature = (source, source_schema, target, target_schema, source_keys, target_keys, prefix, join = "left"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn link_table(
    source: String,
    source_schema: Bound<'_, PyAny>,
    target: String,
    target_schema: Bound<'_, PyAny>,
    source_keys: Vec<String>,
    target_keys: Vec<String>,
    prefix: String,
    join: &str,
) -> PyResult<OperatorTable> {
    let spec = LinkSpec {
        source_keys,
        target_keys,
        fetch: vec![],
        prefix,
        join: LinkJoin::parse(join).map_err(value_error)?,
    };
    let provider = LinkTableProvider::try_new(
        source,
        arrow_schema(&source_schema)?,
        target,
        arrow_schema(&target_schema)?,
        spec,
    )
    .map_err(value_error)?;
    Ok(OperatorTable::new(provider, "link"))
}

/// The as-of join of `left` and `right` (two registered tables): the left's columns, then
/// the right's (named by the operator: `by` keys named as the left's left out, clashes with
/// `suffix`). `tolerance` is `("number", value)` or `("nanos", value)`.
#[pyfunction]
#[pyo3(signature = (left, left_schema, right, right_schema, left_on, right_on, left_by, right_by, strategy, tolerance = None, suffix = "_right"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn asof_table(
    left: String,
    left_schema: Bound<'_, PyAny>,
    right: String,
    right_schema: Bound<'_, PyAny>,
    left_on: String,
    right_on: String,
    left_by: Vec<String>,
    right_by: Vec<String>,
    strategy: &str,
    tolerance: Option<(String, f64)>,
    suffix: &str,
) -> PyResult<OperatorTable> {
    let tolerance = match tolerance {
        None => None,
        Some((kind, value)) if kind == "number" => Some(Tolerance::Number(value)),
        Some((kind, value)) if kind == "nanos" => Some(Tolerance::Nanos(value as i64)),
        Some((kind, _)) => {
            return Err(PyValueError::new_err(format!(
                "unknown tolerance kind {kind:?}"
            )))
        }
    };
    let (left_schema, right_schema) = (arrow_schema(&left_schema)?, arrow_schema(&right_schema)?);
    let strategy = AsofStrategy::parse(strategy).map_err(value_error)?;
    let spec = AsofSpec::new(
        &left_schema,
        &right_schema,
        left_on,
        right_on,
        left_by,
        right_by,
        strategy,
        tolerance,
        suffix,
    )
    .map_err(value_error)?;
    let provider = AsofTableProvider::try_new(left, left_schema, right, right_schema, spec)
        .map_err(value_error)?;
    Ok(OperatorTable::new(provider, "asof"))
}

/// The order-keeping join of `left` and `right` (two registered tables): the left's columns,
/// the right columns `fetch` named `names`, and with `ordinal` an increasing BIGINT column.
#[pyfunction]
#[pyo3(signature = (left, left_schema, right, right_schema, left_keys, right_keys, kind, fetch, names, ordinal = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn join_table(
    left: String,
    left_schema: Bound<'_, PyAny>,
    right: String,
    right_schema: Bound<'_, PyAny>,
    left_keys: Vec<String>,
    right_keys: Vec<String>,
    kind: &str,
    fetch: Vec<String>,
    names: Vec<String>,
    ordinal: Option<String>,
) -> PyResult<OperatorTable> {
    let spec = JoinSpec {
        left_keys,
        right_keys,
        kind: JoinKind::parse(kind).map_err(value_error)?,
        fetch,
        names,
        ordinal,
    };
    let provider = JoinTableProvider::try_new(
        left,
        arrow_schema(&left_schema)?,
        right,
        arrow_schema(&right_schema)?,
        spec,
    )
    .map_err(value_error)?;
    Ok(OperatorTable::new(provider, "join"))
}

/// The `Pattern` operator (ordered search) over `input` with one BOOLEAN column per step: the
/// rows where the steps match on consecutive rows (without the step columns), or their count.
#[pyfunction]
#[pyo3(signature = (input, schema, steps, partition_by, ordinal = None, count = false, fetch = None))]
pub(crate) fn pattern_table(
    input: String,
    schema: Bound<'_, PyAny>,
    steps: Vec<String>,
    partition_by: Vec<String>,
    ordinal: Option<String>,
    count: bool,
    fetch: Option<usize>,
) -> PyResult<OperatorTable> {
    let output = if count {
        PatternOutput::Count
    } else {
        PatternOutput::Rows { fetch }
    };
    let input = OrderedInput::new(input, arrow_schema(&schema)?, ordinal).map_err(value_error)?;
    let provider =
        PatternTableProvider::try_new(input, steps, partition_by, output).map_err(value_error)?;
    Ok(OperatorTable::new(provider, "pattern"))
}

/// The `Output` operator over `input`: its rows in the order `keys` (`(column, descending,
/// nulls_first)`), read as they are when they are in that order already, else merged, else
/// read from `sorted` (the same rows sorted by the host) or sorted; only the rows
/// `skip..skip + fetch` of that order when given (a slice).
#[pyfunction]
#[pyo3(signature = (input, schema, keys, sorted=None, skip=0, fetch=None))]
pub(crate) fn output_table(
    input: String,
    schema: Bound<'_, PyAny>,
    keys: Vec<(String, bool, bool)>,
    sorted: Option<String>,
    skip: usize,
    fetch: Option<usize>,
) -> PyResult<OperatorTable> {
    let keys = keys
        .into_iter()
        .map(|(column, descending, nulls_first)| SortKey {
            column,
            descending,
            nulls_first,
        })
        .collect();
    let schema = arrow_schema(&schema)?;
    let sorted = sorted.map(|name| InputTable::new(name, Arc::clone(&schema)));
    let input = InputTable::new(input, schema);
    let provider =
        OutputTableProvider::try_new(input, keys, sorted, (skip, fetch)).map_err(value_error)?;
    Ok(OperatorTable::new(provider, "output"))
}
