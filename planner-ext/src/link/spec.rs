//! What a link is: the key column pairs, the target columns to fetch and their names, and
//! what happens to rows without a match.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use serde::{Deserialize, Serialize};

use crate::ordered::build_side::gathered_type;

/// The table function's SQL name (Rust sessions).
pub const LINK_FUNCTION_NAME: &str = "ltseq_link";
pub(super) const NAME: &str = "LtseqLinkExec";
pub(super) const NODE_NAME: &str = "LtseqLink";

/// What happens to a source row whose key has no match (or is NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkJoin {
    /// The row stays, with NULL in every fetched column.
    Left,
    /// The row is dropped.
    Inner,
}

impl LinkJoin {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "left" => Ok(Self::Left),
            "inner" => Ok(Self::Inner),
            other => Err(DataFusionError::Plan(format!(
                "{LINK_FUNCTION_NAME}: join type must be 'left' or 'inner', got {other:?}"
            ))),
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Inner => "inner",
        }
    }
}

/// A link: the key column pairs, the target columns to fetch, and how they are named.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct LinkSpec {
    pub source_keys: Vec<String>,
    pub target_keys: Vec<String>,
    /// Target columns to fetch; output column `prefix + name`.
    pub fetch: Vec<String>,
    pub prefix: String,
    pub join: LinkJoin,
}

impl LinkSpec {
    /// The spec with `fetch` replaced.
    pub fn fetching(&self, fetch: Vec<String>) -> Self {
        Self {
            fetch,
            ..self.clone()
        }
    }

    pub(super) fn summary(&self) -> String {
        let keys = self
            .source_keys
            .iter()
            .zip(&self.target_keys)
            .map(|(s, t)| format!("{s} = {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "on=[{keys}], fetch=[{}], prefix={}, join={}",
            self.fetch.join(", "),
            self.prefix,
            self.join.as_str()
        )
    }

    /// Checks the spec against the two schemas; returns the key types (the common type each
    /// pair is compared in) and the output schema (source fields, then fetched fields).
    pub fn resolve(&self, source: &Schema, target: &Schema) -> Result<(Vec<DataType>, SchemaRef)> {
        if self.source_keys.is_empty() || self.source_keys.len() != self.target_keys.len() {
            return Err(DataFusionError::Plan(format!(
                "{NODE_NAME}: give one or more key pairs (source column = target column), got {} source and {} target keys",
                self.source_keys.len(),
                self.target_keys.len()
            )));
        }
        let column = |schema: &Schema, name: &str, side: &str| {
            schema.field_with_name(name).cloned().map_err(|_| {
                let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                DataFusionError::Plan(format!(
                    "{NODE_NAME}: the {side} has no column {name:?} (columns: {})",
                    names.join(", ")
                ))
            })
        };
        let mut key_types = Vec::new();
        for (s, t) in self.source_keys.iter().zip(&self.target_keys) {
            let sf = column(source, s, "source")?;
            let tf = column(target, t, "target")?;
            let common = comparison_coercion(sf.data_type(), tf.data_type()).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{NODE_NAME}: cannot compare the source key {s:?} ({}) with the target key {t:?} ({})",
                    sf.data_type(),
                    tf.data_type()
                ))
            })?;
            key_types.push(common);
        }
        let mut fields: Vec<Field> = source.fields().iter().map(|f| f.as_ref().clone()).collect();
        for name in &self.fetch {
            let f = column(target, name, "target")?;
            let out = format!("{}{}", self.prefix, name);
            if fields.iter().any(|g| g.name() == &out) {
                return Err(DataFusionError::Plan(format!(
                    "{NODE_NAME}: the linked column {out:?} would replace a source column of that name; choose another alias"
                )));
            }
            let nullable = self.join == LinkJoin::Left || f.is_nullable();
            fields.push(Field::new(out, gathered_type(f.data_type()), nullable));
        }
        Ok((
            key_types,
            Arc::new(Schema::new_with_metadata(fields, source.metadata().clone())),
        ))
    }
}
