//! The SQL reference of ltseq's operators (their table functions), rendered into
//! `docs/sql-reference.md` after the window functions. Each operator keeps its section beside
//! its code (`Operator::reference`), so the reference cannot drift from the function names and
//! arguments.

/// The operators section of the SQL reference.
pub fn operators_markdown() -> String {
    let mut out = String::from(
        "## Operators\n\nltseq's ordered operators, reached in SQL through table functions (registered by \
         `ltseq_planner::register_table_functions(&ctx)`, or in \
         `ltseq_planner::session_context_with_ltseq(config)`). The Python DSL uses the same operators \
         (`docs/dsl.md`).\n",
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
