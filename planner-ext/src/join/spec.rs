//! What an order-keeping join is: the key pairs, the kind, the right columns it fetches under
//! which names, and the ordinal column it adds.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use serde::{Deserialize, Serialize};

use crate::ordered::build_side::gathered_type;

pub(super) const NAME: &str = "LtseqJoinExec";

/// Which left rows come out, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// A row per match.
    Inner,
    /// A row per match, or one with NULL right columns.
    Left,
    /// The left rows with a match, once each.
    Semi,
    /// The left rows without a match.
    Anti,
}

impl JoinKind {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "inner" => Ok(Self::Inner),
            "left" => Ok(Self::Left),
            "semi" => Ok(Self::Semi),
            "anti" => Ok(Self::Anti),
            other => Err(DataFusionError::Plan(format!(
                "{NAME}: the join must be inner, left, semi or anti, got {other:?}"
            ))),
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Inner => "inner",
            Self::Left => "left",
            Self::Semi => "semi",
            Self::Anti => "anti",
        }
    }

    /// Whether the output has right columns (and can repeat a left row).
    pub(super) fn fetches(self) -> bool {
        matches!(self, Self::Inner | Self::Left)
    }
}

/// An order-keeping equi-join.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Serialize, Deserialize)]
pub struct JoinSpec {
    pub left_keys: Vec<String>,
    pub right_keys: Vec<String>,
    pub kind: JoinKind,
    /// Right columns to fetch (inner and left joins), output as `names`.
    pub fetch: Vec<String>,
    pub names: Vec<String>,
    /// The output ordinal column (inner and left joins), if any.
    pub ordinal: Option<String>,
}

fn column(schema: &Schema, name: &str, side: &str) -> Result<Field> {
    schema.field_with_name(name).cloned().map_err(|_| {
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        DataFusionError::Plan(format!(
            "{NAME}: the {side} table has no column {name:?} (columns: {})",
            names.join(", ")
        ))
    })
}

impl JoinSpec {
    pub(super) fn summary(&self) -> String {
        let keys = self
            .left_keys
            .iter()
            .zip(&self.right_keys)
            .map(|(l, r)| format!("{l} = {r}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{}, on=[{keys}], fetch=[{}]",
            self.kind.as_str(),
            self.fetch.join(", ")
        )
    }

    /// Checks the spec against the two schemas; returns the key types (the common type each
    /// pair is compared in) and the output schema (left fields, fetched fields, the ordinal).
    pub(super) fn resolve(
        &self,
        left: &Schema,
        right: &Schema,
    ) -> Result<(Vec<DataType>, SchemaRef)> {
        if self.left_keys.is_empty() || self.left_keys.len() != self.right_keys.len() {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: give one or more key pairs, got {} left and {} right keys",
                self.left_keys.len(),
                self.right_keys.len()
            )));
        }
        let mut key_types = Vec::new();
        for (l, r) in self.left_keys.iter().zip(&self.right_keys) {
            let lf = column(left, l, "left")?;
            let rf = column(right, r, "right")?;
            let common = comparison_coercion(lf.data_type(), rf.data_type()).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{NAME}: cannot compare the left key {l:?} ({}) with the right key {r:?} ({})",
                    lf.data_type(),
                    rf.data_type()
                ))
            })?;
            key_types.push(common);
        }
        if self.fetch.len() != self.names.len()
            || (!self.kind.fetches() && (!self.fetch.is_empty() || self.ordinal.is_some()))
        {
            return Err(DataFusionError::Plan(format!(
                "{NAME}: fetched columns and an ordinal go with inner and left joins, one name each"
            )));
        }
        let mut fields: Vec<Field> = left.fields().iter().map(|f| f.as_ref().clone()).collect();
        let nullable = self.kind == JoinKind::Left;
        let mut push = |field: Field| {
            if fields.iter().any(|g| g.name() == field.name()) {
                return Err(DataFusionError::Plan(format!(
                    "{NAME}: the output column {:?} would replace a left column of that name",
                    field.name()
                )));
            }
            fields.push(field);
            Ok(())
        };
        for (name, out) in self.fetch.iter().zip(&self.names) {
            let f = column(right, name, "right")?;
            push(Field::new(
                out,
                gathered_type(f.data_type()),
                nullable || f.is_nullable(),
            ))?;
        }
        if let Some(ordinal) = &self.ordinal {
            push(Field::new(ordinal, DataType::Int64, false))?;
        }
        Ok((
            key_types,
            Arc::new(Schema::new_with_metadata(fields, left.metadata().clone())),
        ))
    }
}
