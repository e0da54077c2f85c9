//! The `Link` operator: a pointer-style, many-to-one lookup from a source to a keyed target.
//!
//! Each source row points at (at most) one target row through equal key columns. The operator
//! reads the target once and indexes it; then, for each source batch, it computes the row
//! positions (NULL where the key is NULL or has no match) and gathers (`take`) the fetched
//! target columns. Source rows keep their order and their count (`left`), or only the matched
//! rows stay (`inner`); a target key that occurs more than once is an error naming the key
//! value, never a silent fan-out. The target is the only thing held in memory.
//!
//! - [`spec`]: [`LinkSpec`], [`LinkJoin`] and the output schema.
//! - [`index`]: the target index; [`exec`]: the kernel ([`LinkExec`]).
//! - [`node`]: the logical node ([`LinkNode`]).
//! - [`table`]: the table ([`LinkTableProvider`]) and the scan rewrite.
//! - [`sql`]: the table function `ltseq_link(...)`.

mod exec;
mod index;
mod node;
mod spec;
mod sql;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, NodeKind, Operator, TableFunction};

pub use exec::{Link, LinkExec};
pub use index::TargetIndex;
pub use node::LinkNode;
pub use spec::{LinkJoin, LinkSpec, LINK_FUNCTION_NAME};
pub use sql::parse_keys;
pub use table::{LinkTable, LinkTableProvider};

pub(crate) static OPERATOR: Operator = Operator::new("Link", &[&ExecKind::<Link>(PhantomData)])
    .with_sql(
        REFERENCE,
        &[TableFunction::new(LINK_FUNCTION_NAME, sql::table_function)],
    )
    .with_nodes(&[&NodeKind::<LinkSpec>(PhantomData)], table::rewrite_scan);

const REFERENCE: &str = r#"Each source row points at (at most) one target row with equal key columns, like a pointer: the
source's columns, then every target column named `alias_column`. Rows keep their order and count
(`left`, the default; no match or a NULL key gives NULLs) or only matched rows stay (`inner`). A
target key that occurs more than once is an error naming the key value. Only the target
columns a query reads are fetched.

- `ltseq_link('source', 'target', 'source_key = target_key, ...', 'alias' [, 'left' | 'inner'])`

A key written once (`'product_id'`) names the same column on both sides. Key pairs are compared
as SQL would compare them (an `INT` key links to a `BIGINT` one). Rows come in the source's
order as its scan delivers it (write `ORDER BY` for an order). A `LEFT JOIN` after checking
the target key is unique gives the same rows.

```sql
SELECT order_id, prod_name, quantity * prod_price AS total
FROM ltseq_link('orders', 'products', 'product_id = product_id', 'prod')
```"#;
