//! What an as-of join is: the `on` columns, the exact-match `by` columns, the strategy, the
//! tolerance, and the right columns it fetches under which names.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use serde::{Deserialize, Serialize};

use crate::ordered::build_side::gathered_type;

/// The table function's SQL name.
pub const ASOF_FUNCTION_NAME: &str = "ltseq_asof_join";
pub(super) const NAME: &str = "LtseqAsofJoinExec";
pub(super) const NODE_NAME: &str = "LtseqAsofJoin";

/// Which right row a left row takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsofStrategy {
    /// The last right row with `right.on <= left.on`.
    Backward,
    /// The first right row with `right.on >= left.on`.
    Forward,
    /// The right row nearest in `on`; a tie takes the later right row.
    Nearest,
}

impl AsofStrategy {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "backward" => Ok(Self::Backward),
            "forward" => Ok(Self::Forward),
            "nearest" => Ok(Self::Nearest),
            other => Err(DataFusionError::Plan(format!(
                "{ASOF_FUNCTION_NAME}: strategy must be 'backward', 'forward' or 'nearest', got {other:?}"
            ))),
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Backward => "backward",
            Self::Forward => "forward",
            Self::Nearest => "nearest",
        }
    }
}

/// How far a right row may be from the left row, in `on`'s terms.
#[derive(Debug, Clone, Copy, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// A number, for numeric `on` columns.
    Number(f64),
    /// A duration in nanoseconds, for dates and timestamps.
    Nanos(i64),
}

// Equal by value (a number by its bits): a spec is a key of the planner's node.
impl PartialEq for Tolerance {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Number(a), Self::Number(b)) => a.to_bits() == b.to_bits(),
            (Self::Nanos(a), Self::Nanos(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Tolerance {}

impl std::hash::Hash for Tolerance {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Self::Number(n) => (0u8, n.to_bits()).hash(state),
            Self::Nanos(n) => (1u8, *n).hash(state),
        }
    }
}

/// An as-of join: each left row takes at most one right row with equal `by` keys, chosen by
/// `on` and the strategy; `fetch` are the right columns it brings, named `names`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct AsofSpec {
    pub left_on: String,
    pub right_on: String,
    pub left_by: Vec<String>,
    pub right_by: Vec<String>,
    pub strategy: AsofStrategy,
    pub tolerance: Option<Tolerance>,
    pub fetch: Vec<String>,
    pub names: Vec<String>,
}

/// How `on` values are compared: as 64-bit integers (integers, dates, times, timestamps,
/// durations) or as floats (floats, decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnKind {
    Int,
    Float,
}

/// What `resolve` finds: the common type of the `on` columns and how it compares, the types
/// the `by` pairs are compared in, the tolerance in `on`'s units, and the output schema.
#[derive(Debug, Clone)]
pub(super) struct Resolved {
    pub on_type: DataType,
    pub on_kind: OnKind,
    pub by_types: Vec<DataType>,
    pub tolerance: Option<f64>,
    pub schema: SchemaRef,
}

fn column(schema: &Schema, name: &str, side: &str) -> Result<Field> {
    schema.field_with_name(name).cloned().map_err(|_| {
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        DataFusionError::Plan(format!(
            "{NODE_NAME}: the {side} table has no column {name:?} (columns: {})",
            names.join(", ")
        ))
    })
}

fn on_kind(t: &DataType) -> Option<OnKind> {
    match t {
        t if t.is_integer() => Some(OnKind::Int),
        DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Duration(_) => Some(OnKind::Int),
        t if t.is_floating() => Some(OnKind::Float),
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => Some(OnKind::Float),
        _ => None,
    }
}

/// Nanoseconds per unit of `t`'s integer value (None: `t` is not a time).
fn nanos_per_unit(t: &DataType) -> Option<f64> {
    let unit = |u: &TimeUnit| match u {
        TimeUnit::Second => 1e9,
        TimeUnit::Millisecond => 1e6,
        TimeUnit::Microsecond => 1e3,
        TimeUnit::Nanosecond => 1.0,
    };
    match t {
        DataType::Timestamp(u, _)
        | DataType::Duration(u)
        | DataType::Time32(u)
        | DataType::Time64(u) => Some(unit(u)),
        DataType::Date32 => Some(86_400e9),
        DataType::Date64 => Some(1e6),
        _ => None,
    }
}

impl AsofSpec {
    /// A spec fetching every right column but the `by` keys named as their left keys; a right
    /// column whose name the left has gets `suffix` (a second clash is an error).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        left: &Schema,
        right: &Schema,
        left_on: String,
        right_on: String,
        left_by: Vec<String>,
        right_by: Vec<String>,
        strategy: AsofStrategy,
        tolerance: Option<Tolerance>,
        suffix: &str,
    ) -> Result<Self> {
        let mut taken: Vec<String> = left.fields().iter().map(|f| f.name().clone()).collect();
        let (mut fetch, mut names) = (Vec::new(), Vec::new());
        for f in right.fields() {
            let name = f.name();
            let shared_by = left_by
                .iter()
                .zip(&right_by)
                .any(|(l, r)| l == name && r == name);
            if shared_by {
                continue;
            }
            let mut out = name.clone();
            if taken.contains(&out) {
                out = format!("{name}{suffix}");
                if taken.contains(&out) || right.index_of(&out).is_ok() {
                    return Err(DataFusionError::Plan(format!(
                        "{ASOF_FUNCTION_NAME}: the right column {name:?} clashes with a left column, and so does {out:?}; choose another suffix"
                    )));
                }
            }
            taken.push(out.clone());
            fetch.push(name.clone());
            names.push(out);
        }
        let spec = Self {
            left_on,
            right_on,
            left_by,
            right_by,
            strategy,
            tolerance,
            fetch,
            names,
        };
        spec.resolve(left, right)?;
        Ok(spec)
    }

    /// The spec fetching only the right columns at `keep` (positions in `fetch`).
    pub fn fetching(&self, keep: &[usize]) -> Self {
        Self {
            fetch: keep.iter().map(|&i| self.fetch[i].clone()).collect(),
            names: keep.iter().map(|&i| self.names[i].clone()).collect(),
            ..self.clone()
        }
    }

    pub(super) fn summary(&self) -> String {
        let by = self
            .left_by
            .iter()
            .zip(&self.right_by)
            .map(|(l, r)| format!("{l} = {r}"))
            .collect::<Vec<_>>()
            .join(", ");
        let tolerance = match self.tolerance {
            None => String::new(),
            Some(Tolerance::Number(n)) => format!(", tolerance={n}"),
            Some(Tolerance::Nanos(n)) => format!(", tolerance={n}ns"),
        };
        format!(
            "on={} ~ {}, by=[{by}], strategy={}{tolerance}, fetch=[{}]",
            self.left_on,
            self.right_on,
            self.strategy.as_str(),
            self.fetch.join(", ")
        )
    }

    /// Checks the spec against the two schemas.
    pub(super) fn resolve(&self, left: &Schema, right: &Schema) -> Result<Resolved> {
        if self.left_by.len() != self.right_by.len() {
            return Err(DataFusionError::Plan(format!(
                "{NODE_NAME}: give as many left as right by columns, got {} and {}",
                self.left_by.len(),
                self.right_by.len()
            )));
        }
        let lf = column(left, &self.left_on, "left")?;
        let rf = column(right, &self.right_on, "right")?;
        let on_type = comparison_coercion(lf.data_type(), rf.data_type())
            .filter(|t| on_kind(t).is_some())
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{NODE_NAME}: the on columns {:?} ({}) and {:?} ({}) must be numbers, dates or timestamps of comparable types",
                    self.left_on,
                    lf.data_type(),
                    self.right_on,
                    rf.data_type()
                ))
            })?;
        let on_kind = on_kind(&on_type).unwrap_or(OnKind::Float);
        let tolerance = match self.tolerance {
            None => None,
            Some(t) => {
                let value = match (t, nanos_per_unit(&on_type)) {
                    (Tolerance::Number(n), None) => n,
                    (Tolerance::Nanos(ns), Some(per)) => ns as f64 / per,
                    (Tolerance::Number(_), Some(_)) => {
                        return Err(DataFusionError::Plan(format!(
                            "{NODE_NAME}: the on column {:?} is a time ({on_type}); give the tolerance as a duration",
                            self.left_on
                        )))
                    }
                    (Tolerance::Nanos(_), None) => {
                        return Err(DataFusionError::Plan(format!(
                            "{NODE_NAME}: the on column {:?} is a number ({on_type}); give the tolerance as a number",
                            self.left_on
                        )))
                    }
                };
                if value.is_nan() || value < 0.0 {
                    return Err(DataFusionError::Plan(format!(
                        "{NODE_NAME}: the tolerance must be a number >= 0, got {value}"
                    )));
                }
                Some(value)
            }
        };
        let mut by_types = Vec::new();
        for (l, r) in self.left_by.iter().zip(&self.right_by) {
            let lf = column(left, l, "left")?;
            let rf = column(right, r, "right")?;
            let common = comparison_coercion(lf.data_type(), rf.data_type()).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{NODE_NAME}: cannot compare the left by column {l:?} ({}) with the right one {r:?} ({})",
                    lf.data_type(),
                    rf.data_type()
                ))
            })?;
            by_types.push(common);
        }
        if self.fetch.len() != self.names.len() {
            return Err(DataFusionError::Plan(format!(
                "{NODE_NAME}: every fetched column needs one name"
            )));
        }
        let mut fields: Vec<Field> = left.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (name, out) in self.fetch.iter().zip(&self.names) {
            let f = column(right, name, "right")?;
            if fields.iter().any(|g| g.name() == out) {
                return Err(DataFusionError::Plan(format!(
                    "{NODE_NAME}: the fetched column {out:?} would replace a left column of that name"
                )));
            }
            fields.push(Field::new(out, gathered_type(f.data_type()), true));
        }
        Ok(Resolved {
            on_type,
            on_kind,
            by_types,
            tolerance,
            schema: Arc::new(Schema::new_with_metadata(fields, left.metadata().clone())),
        })
    }
}
