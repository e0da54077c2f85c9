//! The SQL reference of ltseq's operators (their table functions), rendered into
//! `docs/sql-reference.md` after the window functions. One entry per operator, kept here beside
//! the code so the reference cannot drift from the function names and arguments.

/// `(operator, markdown body)` for every operator with a SQL surface.
pub const OPERATORS: &[(&str, &str)] = &[
    (
        "Sequence",
        r#"The rows of a table in their input order, plus a BIGINT ordinal that increases along that order
(not dense: partition `p` of the input starts at `p * 2^40`). `ORDER BY` the ordinal gives back
the input's order however many partitions the input is read in.

- Rust session: the table function `ltseq_sequence('table' [, 'ordinal_column'])`.
- Stock Python context: `ltseq.register_sequence(ctx, 'name', 'table', ordinal='__ltseq_rn')`
  registers a table `name`.

```sql
SELECT k, __ltseq_rn FROM ltseq_sequence('events') ORDER BY __ltseq_rn
```"#,
    ),
    (
        "GroupOrdered",
        r#"Groups of consecutive rows, aggregated in one pass: runs of equal key columns (NULL equals NULL),
or, in split mode, a new group at every row whose BOOLEAN split column is true. Groups never
cross a change of the partition columns. One row per group, in sequence order: `__group_id__`
(BIGINT, 1-based), then the aggregates.

- `ltseq_group_ordered('table', 'order columns', 'key columns', 'aggregates' [, 'partition columns'])`
- `ltseq_group_split('table', 'order columns', 'split column', 'aggregates' [, 'partition columns'])`

Columns are comma-separated names; the table is read ascending by the partition columns, then
the order columns (sorted only if it is not already). Aggregates are comma-separated
`function(column) [AS name]` of DataFusion's aggregate functions (`count(*)`, `sum(v)`,
`first_value(ts)`, ...). Rust sessions only; in a stock context use `run_id` (above).

```sql
SELECT * FROM ltseq_group_ordered('t', 'ts', 'k', 'count(*) AS n, sum(v) AS total', 'u')
```"#,
    ),
    (
        "Link",
        r#"Each source row points at (at most) one target row with equal key columns, like a pointer: the
source's columns, then every target column named `alias_column`. Rows keep their order and count
(`left`, the default; no match or a NULL key gives NULLs) or only matched rows stay (`inner`). A
target key that occurs more than once is an error naming the key value. Only the target
columns a query reads are fetched.

- `ltseq_link('source', 'target', 'source_key = target_key, ...', 'alias' [, 'left' | 'inner'])`

A key written once (`'product_id'`) names the same column on both sides. Key pairs are compared
as SQL would compare them (an `INT` key links to a `BIGINT` one). Rust sessions only; in a
stock context a `LEFT JOIN` after checking the target key is unique gives the same rows.

```sql
SELECT order_id, prod_name, quantity * prod_price AS total
FROM ltseq_link('orders', 'products', 'product_id = product_id', 'prod')
```"#,
    ),
    (
        "Pattern",
        r#"Ordered search for consecutive steps (funnels): a match starts at row `i` when step 1 holds at
row `i`, step 2 at row `i + 1`, ..., all within one partition (no change of the partition
columns inside a match). Steps are BOOLEAN columns (NULL is no match); matches may overlap.

- `ltseq_search_pattern('table', 'order columns', 'step columns' [, 'partition columns'])`: the
  rows where matches start, in order, without the step columns. A `LIMIT` stops the search.
- `ltseq_search_pattern_count(...)`: one row, `count` (BIGINT).

Rust sessions only; in a stock context `lead()` over the same window gives the same matches,
sorting and buffering the rows.

```sql
CREATE VIEW steps AS SELECT *, url = '/home' AS s1, url = '/cart' AS s2 FROM clicks;
SELECT count FROM ltseq_search_pattern_count('steps', 'ts', 's1, s2', 'userid')
```"#,
    ),
];

/// The operators section of the SQL reference.
pub fn operators_markdown() -> String {
    let mut out = String::from(
        "## Operators\n\nltseq's ordered operators, reached in SQL through table functions (registered by \
         `ltseq_planner::register_table_functions(&ctx)`, or in \
         `ltseq_planner::session_context_with_ltseq(config)`). The Python DSL uses the same operators \
         (`docs/dsl.md`).\n",
    );
    for (name, body) in OPERATORS {
        out.push_str(&format!("\n### `{name}`\n\n{body}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    #[test]
    fn every_table_function_is_in_the_reference() {
        let ctx = SessionContext::new();
        let builtin: Vec<String> = ctx.state().table_functions().keys().cloned().collect();
        crate::register_table_functions(&ctx);
        let text = super::operators_markdown();
        let names: Vec<String> = ctx
            .state()
            .table_functions()
            .keys()
            .filter(|n| !builtin.contains(n))
            .cloned()
            .collect();
        assert!(names.len() >= 6, "{names:?}");
        for name in names {
            assert!(
                text.contains(&format!("{name}(")),
                "{name} is not in the SQL reference"
            );
        }
    }
}
