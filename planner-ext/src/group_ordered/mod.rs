//! The `GroupOrdered` operator: groups of consecutive rows, aggregated in one streaming pass.
//!
//! Over input in sequence order, a group is a run of rows with equal keys (NULL equal to NULL),
//! or, in split mode, the rows from one row whose split flag (a BOOLEAN column, or a predicate
//! over the columns and their lags evaluated in the operator) is true to the next; groups also
//! end where the `partition_by` columns change. Output: one row per group, in sequence order:
//! the group id (BIGINT, 1-based), then one column per aggregate.
//!
//! - [`spec`]: boundaries, aggregates, the logical spec and the output schema.
//! - [`split`]: split predicates over lags, evaluated on zero-copy slices.
//! - [`exec`]: the kernel ([`GroupOrderedExec`]); [`stream`]: its stream, including the
//!   parallel mode over stored-order partitions.
//! - [`node`]: the logical node ([`GroupOrderedNode`]).
//! - [`table`]: the DSL's table ([`GroupOrderedTableProvider`]) and the scan rewrite.
//! - [`sql`]: the Rust SQL table functions `ltseq_group_ordered` and `ltseq_group_split`.

mod exec;
mod node;
mod spec;
mod split;
mod sql;
mod stream;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, NodeKind, Operator, TableFunction};

pub use exec::{GroupOrdered, GroupOrderedExec, GroupOrderedExecSpec};
pub use node::GroupOrderedNode;
pub use spec::{aggregate_function, group_ordered_schema, AggCall, Boundary, GroupOrderedSpec};
pub use split::{CompiledSplit, Lag, SplitPredicate};
pub use sql::{parse_aggregates, GROUP_ORDERED_FUNCTION_NAME, GROUP_SPLIT_FUNCTION_NAME};
pub use table::{GroupOrderedTable, GroupOrderedTableProvider};

pub(crate) static OPERATOR: Operator =
    Operator::new("GroupOrdered", &[&ExecKind::<GroupOrdered>(PhantomData)])
        .with_sql(
            REFERENCE,
            &[
                TableFunction::new(GROUP_ORDERED_FUNCTION_NAME, sql::group_ordered_function),
                TableFunction::new(GROUP_SPLIT_FUNCTION_NAME, sql::group_split_function),
            ],
        )
        .with_nodes(
            &[&NodeKind::<GroupOrderedSpec>(PhantomData)],
            table::rewrite_scan,
        );

const REFERENCE: &str = r#"Groups of consecutive rows, aggregated in one pass: runs of equal key columns (NULL equals NULL),
or, in split mode, a new group at every row whose BOOLEAN split column is true. Groups never
cross a change of the partition columns. One row per group, in sequence order: `__group_id__`
(BIGINT, 1-based), then the aggregates.

- `ltseq_group_ordered('table', 'order columns', 'key columns', 'aggregates' [, 'partition columns'])`
- `ltseq_group_split('table', 'order columns', 'split column', 'aggregates' [, 'partition columns'])`

Columns are comma-separated names; the table is read ascending by the partition columns, then
the order columns (sorted only if it is not already). Aggregates are comma-separated
`function(column) [AS name]` of DataFusion's aggregate functions (`count(*)`, `sum(v)`,
`first_value(ts)`, ...). Without ltseq's table functions, `run_id` (above) gives the same
groups.

```sql
SELECT * FROM ltseq_group_ordered('t', 'ts', 'k', 'count(*) AS n, sum(v) AS total', 'u')
```"#;
