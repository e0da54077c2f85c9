//! The `Pattern` operator: ordered search for consecutive steps (funnels).
//!
//! Over input in sequence order with one BOOLEAN column per step, a match starts at row `i` when
//! step 1 holds at row `i`, step 2 at row `i + 1`, ..., step `k` at row `i + k - 1`, and the
//! `partition_by` columns do not change within those rows (a pattern never crosses a
//! partition; NULL equals NULL; a NULL step is false). Matches may overlap. Two outputs: the
//! rows where matches start, in order, without the step columns (optionally stopping after
//! `fetch` of them, which is how `search_first` stops reading early), or one row with the
//! number of matches (`count`, BIGINT).
//!
//! - [`exec`]: the kernel ([`PatternExec`]) and the output schema; [`stream`]: its stream.
//! - [`table`]: the DSL's table ([`PatternTableProvider`]).
//! - [`sql`]: the Rust SQL table functions.

mod exec;
mod sql;
mod stream;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, Operator, TableFunction};

pub use exec::{pattern_schema, Pattern, PatternExec, PatternOutput, PatternSpec, COUNT_COLUMN};
pub use sql::{SEARCH_PATTERN_COUNT_FUNCTION_NAME, SEARCH_PATTERN_FUNCTION_NAME};
pub use table::{PatternTable, PatternTableProvider};

pub(crate) static OPERATOR: Operator =
    Operator::new("Pattern", &[&ExecKind::<Pattern>(PhantomData)]).with_sql(
        REFERENCE,
        &[
            TableFunction::new(SEARCH_PATTERN_FUNCTION_NAME, sql::search_pattern_function),
            TableFunction::new(
                SEARCH_PATTERN_COUNT_FUNCTION_NAME,
                sql::search_pattern_count_function,
            ),
        ],
    );

const REFERENCE: &str = r#"Ordered search for consecutive steps (funnels): a match starts at row `i` when step 1 holds at
row `i`, step 2 at row `i + 1`, ..., all within one partition (no change of the partition
columns inside a match). Steps are BOOLEAN columns (NULL is no match); matches may overlap.

- `ltseq_search_pattern('table', 'order columns', 'step columns' [, 'partition columns'])`: the
  rows where matches start, in order, without the step columns. A `LIMIT` stops the search.
- `ltseq_search_pattern_count(...)`: one row, `count` (BIGINT).

`lead()` over the same window gives the same matches, sorting and buffering the rows.

```sql
CREATE VIEW steps AS SELECT *, url = '/home' AS s1, url = '/cart' AS s2 FROM clicks;
SELECT count FROM ltseq_search_pattern_count('steps', 'ts', 's1, s2', 'userid')
```"#;
