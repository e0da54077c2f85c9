//! The order-keeping join over two named tables, as a table (the table-provider route): the
//! left's columns, the fetched right columns, the ordinal. A scan reads every left column and
//! the right's keys and fetched columns.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;

use super::exec::JoinExec;
use super::spec::JoinSpec;
use crate::ordered::{InputTable, OperatorProvider, OperatorTable, Plan, Scan};

const WHO: &str = "ltseq join";

/// The join's table.
#[derive(Debug)]
pub struct JoinTable {
    left: InputTable,
    right: InputTable,
    spec: JoinSpec,
}

/// The join's table as a `TableProvider`.
pub type JoinTableProvider = OperatorProvider<JoinTable>;

impl OperatorProvider<JoinTable> {
    pub fn try_new(
        left_name: impl Into<String>,
        left_schema: SchemaRef,
        right_name: impl Into<String>,
        right_schema: SchemaRef,
        spec: JoinSpec,
    ) -> Result<Self> {
        let (_, schema) = spec.resolve(&left_schema, &right_schema)?;
        let table = JoinTable {
            left: InputTable::new(left_name, left_schema),
            right: InputTable::new(right_name, right_schema),
            spec,
        };
        Ok(Self::new(table, schema))
    }
}

#[async_trait]
impl OperatorTable for JoinTable {
    const WHO: &'static str = WHO;

    async fn operator(&self, scan: Scan<'_>) -> Result<Plan> {
        let left_cols: Vec<usize> = (0..self.left.schema.fields().len()).collect();
        let mut right_cols = Vec::new();
        for k in self.spec.right_keys.iter().chain(&self.spec.fetch) {
            right_cols.push(self.right.index_of(k, WHO)?);
        }
        right_cols.sort_unstable();
        right_cols.dedup();
        // a left join gives at least one row per left row: a limit goes to the left (the other
        // kinds may drop left rows)
        let limit = (self.spec.kind == super::JoinKind::Left)
            .then_some(scan.limit)
            .flatten();
        let left = self.left.scan(scan.session, &left_cols, limit, WHO).await?;
        let right = self
            .right
            .scan(scan.session, &right_cols, None, WHO)
            .await?;
        Ok(Arc::new(JoinExec::try_new(
            left,
            right,
            self.spec.clone(),
            true,
        )?))
    }
}
