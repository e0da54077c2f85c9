//! The `AsOf` operator: an as-of join. Each left row takes at most one right row with equal
//! `by` keys: the last one at or before it in `on` (`backward`), the first at or after it
//! (`forward`), or the nearest (`nearest`; a tie takes the later right row), within an
//! optional tolerance. Every left row appears once, in the left's order, with NULLs where it
//! takes no row (a left join). The right side is read once and indexed (per key, its rows by
//! `on`); each left row finds its row by bisection, so the left needs no order and streams,
//! partition by partition, in parallel. The right side is the only thing held in memory.
//!
//! - [`spec`]: [`AsofSpec`], the strategy, the tolerance and the output schema.
//! - [`index`]: the right side's index; [`exec`]: the kernel ([`AsofExec`]).
//! - [`node`]: the logical node ([`AsofNode`]).
//! - [`table`]: the table ([`AsofTableProvider`]) and the scan rewrite.
//! - [`sql`]: the table function `ltseq_asof_join(...)`.

mod exec;
mod index;
mod node;
mod spec;
mod sql;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, NodeKind, Operator, TableFunction};

pub use exec::{Asof, AsofExec};
pub use node::AsofNode;
pub use spec::{AsofSpec, AsofStrategy, Tolerance, ASOF_FUNCTION_NAME};
pub use table::{AsofTable, AsofTableProvider};

pub(crate) static OPERATOR: Operator = Operator::new("AsofJoin", &[&ExecKind::<Asof>(PhantomData)])
    .with_sql(
        REFERENCE,
        &[TableFunction::new(ASOF_FUNCTION_NAME, sql::table_function)],
    )
    .with_nodes(&[&NodeKind::<AsofSpec>(PhantomData)], table::rewrite_scan);

const REFERENCE: &str = r#"An as-of join: every row of the left table, once, in the left's order, with the columns of
at most one right row whose `by` columns are equal: the last right row with `right.on <= left.on`
(`backward`, the default), the first with `right.on >= left.on` (`forward`), or the nearest in
`on` (`nearest`; of the right rows at the least distance, the last). With a tolerance, a right row further
than it from the left row is not taken. No row: NULLs. NULL keys and NULL (or NaN) `on` values
never match.

- `ltseq_asof_join('left', 'right', 'on' [, 'by' [, 'backward' | 'forward' | 'nearest' [, tolerance]]])`

`on` names the column of both tables, or `'left_col = right_col'`; `by` is a comma-separated
list of columns (`'sym'`, `'sym = symbol, venue'`); the tolerance is a number for numeric `on`
columns and an `INTERVAL` (days and smaller units) for dates and timestamps. The columns: the
left's, then the right's except `by` columns named as their left column; a right column whose
name the left has gets the suffix `_right`. Equal `on` values of the right are taken in the
right's order (its scan's). Neither side needs an order: the right is indexed, each left row
searched; the rows come in the left's order as its scan delivers it (write `ORDER BY` for an
order).

```sql
SELECT ts, sym, qty, bid FROM ltseq_asof_join('trades', 'quotes', 'ts', 'sym', 'backward', INTERVAL '5 seconds')
```"#;
