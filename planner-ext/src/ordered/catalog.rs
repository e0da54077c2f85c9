//! Finding an operator's input tables by name in the session that plans it.
//!
//! Operators keep only the names and schemas of their inputs: a provider handed out by a
//! foreign session's catalog must not outlive the call that produced it (holding a host's file
//! table beyond that call crashed later), so each scan looks the input up again.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_plan::ExecutionPlan;

/// Finds a table, view or in-memory table by name in the session's catalogs; `who` names the
/// operator asking, for the error message.
pub fn lookup_table(
    session: &dyn Session,
    name: &str,
    who: &str,
) -> Result<Arc<dyn TableProvider>> {
    let options = &session.config_options().catalog;
    let reference = TableReference::parse_str(name);
    let resolved = reference
        .clone()
        .resolve(&options.default_catalog, &options.default_schema);
    let not_found = || table_not_found(who, name);
    let catalog = session
        .catalog_list()
        .catalog(&resolved.catalog)
        .ok_or_else(not_found)?;
    let schema = catalog.schema(&resolved.schema).ok_or_else(not_found)?;
    let table = futures::executor::block_on(schema.table(&resolved.table))?;
    table.ok_or_else(not_found)
}

/// The error for a table `name` that `who` cannot find.
pub fn table_not_found(who: &str, name: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{who}: table '{name}' not found in the session catalog (ltseq removes the tables it \
         registered when no LTSeq uses them any more; DataFrames from LTSeq.to_datafusion() keep \
         theirs)"
    ))
}

/// Where a table function finds the tables its arguments name: the session that plans the
/// call ([`SessionTables`], Rust sessions), or a host that answers by name (the Python route,
/// where a stock context's table function cannot hand its session across the FFI).
pub trait Tables {
    /// The schema of the table `name` (as the SQL wrote it); an error names `who`.
    fn schema_of(&self, name: &str, who: &str) -> Result<SchemaRef>;
}

/// The tables of a session's catalogs.
pub struct SessionTables<'a>(pub &'a dyn Session);

impl Tables for SessionTables<'_> {
    fn schema_of(&self, name: &str, who: &str) -> Result<SchemaRef> {
        Ok(lookup_table(self.0, name, who)?.schema())
    }
}

/// An input table of an operator: its name, and its schema when the operator was made.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTable {
    pub name: String,
    pub schema: SchemaRef,
}

impl InputTable {
    pub fn new(name: impl Into<String>, schema: SchemaRef) -> Self {
        Self {
            name: name.into(),
            schema,
        }
    }

    /// The table `name` as the session has it now (a table function's argument).
    pub fn lookup(tables: &dyn Tables, name: &str, who: &str) -> Result<Self> {
        Ok(Self::new(name, tables.schema_of(name, who)?))
    }

    /// [`Self::lookup`], with every name of `columns` checked to be a column of the table.
    pub fn lookup_with<'a>(
        tables: &dyn Tables,
        name: &str,
        who: &str,
        columns: impl IntoIterator<Item = &'a String>,
    ) -> Result<Self> {
        let input = Self::lookup(tables, name, who)?;
        for column in columns {
            input.index_of(column, who)?;
        }
        Ok(input)
    }

    /// The index of the column `name`, or an error naming the table and `who` asks.
    pub fn index_of(&self, name: &str, who: &str) -> Result<usize> {
        self.schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            DataFusionError::Plan(format!(
                "{who}: table '{}' has no column {name:?} (columns: {})",
                self.name,
                names.join(", ")
            ))
        })
    }

    /// The table, looked up again in `session`; it must still have its schema.
    pub fn resolve(&self, session: &dyn Session, who: &str) -> Result<Arc<dyn TableProvider>> {
        let table = lookup_table(session, &self.name, who)?;
        if table.schema().fields() != self.schema.fields() {
            return Err(DataFusionError::Plan(format!(
                "{who}: table '{}' changed its schema since the query was planned",
                self.name
            )));
        }
        Ok(table)
    }

    /// The table's plan for all its columns.
    pub async fn scan_all(
        &self,
        session: &dyn Session,
        who: &str,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let all: Vec<usize> = (0..self.schema.fields().len()).collect();
        self.scan(session, &all, None, who).await
    }

    /// The table's plan for the columns `columns` (indices into its schema).
    pub async fn scan(
        &self,
        session: &dyn Session,
        columns: &[usize],
        limit: Option<usize>,
        who: &str,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table = self.resolve(session, who)?;
        table
            .scan(session, Some(&columns.to_vec()), &[], limit)
            .await
    }
}

/// An operator's input in sequence order: ltseq's stored order (ascending in `ordinal`), or,
/// without an ordinal, one ordered partition (a view ending in `ORDER BY`).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedInput {
    pub table: InputTable,
    pub ordinal: Option<String>,
}

impl OrderedInput {
    /// The table `name` (schema `schema`) in stored order by `ordinal`, or in its plan's order.
    pub fn new(
        name: impl Into<String>,
        schema: SchemaRef,
        ordinal: Option<String>,
    ) -> Result<Self> {
        let input = Self {
            table: InputTable::new(name, schema),
            ordinal,
        };
        input.check(input.ordinal.iter(), "the ordered input")?;
        Ok(input)
    }

    /// Checks that every name in `names` is a column of the input.
    pub fn check<'a>(&self, names: impl IntoIterator<Item = &'a String>, who: &str) -> Result<()> {
        for name in names {
            self.table.index_of(name, who)?;
        }
        Ok(())
    }

    /// The input scanned for the columns `needed`, in sequence order, and the shape it comes in
    /// (see [`super::input::read_ordered`]).
    pub async fn read(
        &self,
        session: &dyn Session,
        needed: &[usize],
        parallel: bool,
        who: &str,
    ) -> Result<(Arc<dyn ExecutionPlan>, super::InputOrder)> {
        let ordinal = self.ordinal.as_deref();
        super::input::read_ordered(session, &self.table, needed, ordinal, parallel, who).await
    }
}
