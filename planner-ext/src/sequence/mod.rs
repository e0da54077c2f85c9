//! The `Sequence` operator: reads its input in the input's order and appends a BIGINT
//! ordinal. Row `i` of input partition `p` gets `p * 2^40 + i`, so the ordinal increases along
//! every partition and from one partition to the next: ordering (or merging partitions) by it
//! gives back exactly the input's order, while the partitions are still read in parallel. It
//! is the base of the DSL's order guarantee.
//!
//! - [`exec`]: the kernel ([`SequenceExec`]) and its stream.
//! - [`node`]: the logical node ([`SequenceNode`], `LtseqSequence`).
//! - [`table`]: the table ([`SequenceTableProvider`]), the table function
//!   `ltseq_sequence('table' [, 'ordinal'])`, the scan rewrite and the provider codec.

mod exec;
mod node;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, NodeKind, Operator, TableFunction};

pub use exec::{sequence_schema, Sequence, SequenceExec, SequenceSpec, DEFAULT_ORDINAL_COLUMN};
pub use node::SequenceNode;
pub use table::{SequenceTable, SequenceTableProvider, SEQUENCE_FUNCTION_NAME};

pub(crate) static OPERATOR: Operator =
    Operator::new("Sequence", &[&ExecKind::<Sequence>(PhantomData)])
        .with_sql(
            REFERENCE,
            &[TableFunction::new(
                SEQUENCE_FUNCTION_NAME,
                table::table_function,
            )],
        )
        .with_nodes(
            &[&NodeKind::<SequenceSpec>(PhantomData)],
            table::rewrite_scan,
        )
        .with_providers(&[&table::PROVIDER_CODEC]);

const REFERENCE: &str = r#"The rows of a table in their input order, plus a BIGINT ordinal that increases along that order
(not dense: partition `p` of the input starts at `p * 2^40`). `ORDER BY` the ordinal gives back
the input's order however many partitions the input is read in.

- `ltseq_sequence('table' [, 'ordinal_column'])`.
- Or, in Python, a table `name` of the same rows:
  `ltseq.register_sequence(ctx, 'name', 'table', ordinal='__ltseq_rn')`.

```sql
SELECT k, __ltseq_rn FROM ltseq_sequence('events') ORDER BY __ltseq_rn
```"#;
