//! Renders the SQL reference (`docs/sql-reference.md`) from each function's [`Documentation`].

use datafusion::logical_expr::{Documentation, WindowUDF};

/// Markdown for one function.
pub fn function_markdown(udwf: &WindowUDF) -> Option<String> {
    let doc: &Documentation = udwf.documentation()?;
    let mut out = String::new();
    out.push_str(&format!("### `{}`\n\n", udwf.name()));
    out.push_str(&format!("{}\n\n", doc.description));
    out.push_str(&format!("```sql\n{}\n```\n\n", doc.syntax_example));
    if let Some(args) = &doc.arguments {
        out.push_str("**Arguments**\n\n");
        for (name, text) in args {
            out.push_str(&format!("- `{name}`: {text}\n"));
        }
        out.push('\n');
    }
    let aliases = udwf.aliases();
    if !aliases.is_empty() {
        let names: Vec<String> = aliases.iter().map(|a| format!("`{a}`")).collect();
        out.push_str(&format!("**Aliases:** {}\n\n", names.join(", ")));
    }
    if let Some(example) = &doc.sql_example {
        out.push_str("**Example**\n\n");
        out.push_str(example.trim());
        out.push_str("\n\n");
    }
    Some(out)
}

/// The whole generated part of the SQL reference, functions in name order.
/// Returns the names of functions without documentation as the error.
pub fn sql_reference_markdown() -> Result<String, Vec<String>> {
    let mut udwfs = crate::all_window_udfs();
    udwfs.sort_by(|a, b| a.name().cmp(b.name()));
    let mut missing = Vec::new();
    let mut out = String::new();
    for udwf in &udwfs {
        match function_markdown(udwf) {
            Some(md) => out.push_str(&md),
            None => missing.push(udwf.name().to_string()),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}
