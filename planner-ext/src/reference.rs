//! The SQL reference of ltseq's operators (their table functions), rendered into
//! `docs/sql-reference.md` after the window functions. Each operator keeps its section beside
//! its code (`Operator::reference`), so the reference cannot drift from the function names and
//! arguments.

/// The operators section of the SQL reference.
pub fn operators_markdown() -> String {
    let mut out = String::from(
        "## Operators\n\nltseq's ordered operators, reached in SQL through table functions, with the \
         same names, arguments and results in both worlds: in a stock Python \
         `datafusion.SessionContext` after `ltseq.register(ctx)`, and in a Rust session after \
         `ltseq_planner::register_table_functions(&ctx)` (or in \
         `ltseq_planner::session_context_with_ltseq(config)`). The Python DSL uses the same operators \
         (`docs/dsl.md`).\n\n\
         **Inputs.** A table argument names a table or a view of the session (a registered table, a \
         `CREATE TABLE`/`CREATE EXTERNAL TABLE`, a `CREATE VIEW`, a `register_view`), qualified \
         (`'cat.schema.t'`) or not; quote a name that needs it as SQL does (`'\"My Table\"'`). A \
         subquery or a CTE is not a table argument: register it as a view. Column lists are \
         comma-separated names taken as written (case included; a name holding a comma cannot be \
         given). Every argument is a string literal.\n\n\
         **Order.** An operator reads its input in the order it needs (ascending by the partition \
         columns, then the order columns, NULLs last) and sorts it itself, spilling under a memory \
         limit, unless the input's plan is already in that order: a view ending in `ORDER BY` \
         those columns is read as it is. Between rows tied on every order column no order is \
         promised: make the order columns unique for a result that cannot vary.\n\n\
         **Declared order.** Tell the context how a table is stored, and DataFusion and ltseq's \
         operators skip the sort for that order: a file table with `CREATE EXTERNAL TABLE ... \
         WITH ORDER (a, b)` (trusted, as DataFusion trusts it: declare only an order the file \
         has), in-memory data with `ltseq.register_ordered(ctx, 'name', data, ['a', 'b'])` (a \
         pyarrow Table, a pandas or Polars DataFrame, an `LTSeq`; checked while it is registered: \
         rows out of that order are an error naming the first). DataFusion's own windows skip \
         the sort too with ltseq's query planner (`ltseq.register(ctx, planner=True)`); without \
         it a stock context cannot see an order ltseq declares across the FFI.\n\n\
         **Windows on ltseq's operator.** With ltseq's query planner, a SQL window whose calls \
         ltseq's Window operator computes runs on it (`LtseqWindowExec` in `EXPLAIN`) instead of \
         DataFusion's window operators, with the same values: ltseq's functions; `lag`, `lead`, \
         `row_number`, `ntile` (not with `IGNORE NULLS`); `sum`, `avg`, `min`, `max`, `count` of \
         a column over `ROWS BETWEEN n PRECEDING AND CURRENT ROW`; `sum` and `count` over `ROWS \
         UNBOUNDED PRECEDING`. The window's `ORDER BY` must be of columns, ascending, NULLs last. \
         Other windows (`first_value`, ranks, `RANGE` frames, a running `min`/`max`) stay with \
         DataFusion. One difference: after a NaN has left a sliding frame, DataFusion's `sum` and \
         `avg` stay NaN; ltseq's are the frame's (`sum(v) OVER (ORDER BY t ROWS BETWEEN 1 \
         PRECEDING AND CURRENT ROW)` over 1, NaN, 2, 3 gives 1, NaN, NaN, 5).\n",
    );
    for operator in crate::OPERATORS {
        if !operator.reference.is_empty() {
            out.push_str(&format!(
                "\n### `{}`\n\n{}\n",
                operator.name, operator.reference
            ));
        }
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
