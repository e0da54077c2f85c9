//! Arguments of ltseq's table functions: string literals and comma-separated column lists.

use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

/// The arguments of the table function `who`, checked to number between `min` and `max`
/// (`usage` shows the call in the error).
pub fn arity<'a>(
    who: &str,
    exprs: &'a [Expr],
    min: usize,
    max: usize,
    usage: &str,
) -> Result<&'a [Expr]> {
    if exprs.len() < min || exprs.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else {
            format!("{min} or {max}")
        };
        return Err(DataFusionError::Plan(format!(
            "{who} expects {expected} arguments: {who}({usage}), got {}",
            exprs.len()
        )));
    }
    Ok(exprs)
}

/// The text of argument `position` (1-based) of the table function `who`, which must be a
/// string literal.
pub fn text_arg(who: &str, expr: &Expr, position: usize) -> Result<String> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)), _)
        | Expr::Literal(ScalarValue::LargeUtf8(Some(s)), _)
        | Expr::Literal(ScalarValue::Utf8View(Some(s)), _) => Ok(s.clone()),
        other => Err(DataFusionError::Plan(format!(
            "{who}: argument {position} must be a string literal, got {other}"
        ))),
    }
}

/// The optional argument `position` (1-based) as text.
pub fn text_arg_opt(who: &str, exprs: &[Expr], position: usize) -> Result<Option<String>> {
    exprs
        .get(position - 1)
        .map(|e| text_arg(who, e, position))
        .transpose()
}

/// The optional column-list argument `position` (1-based): its names, none when absent.
pub fn names_arg_opt(who: &str, exprs: &[Expr], position: usize) -> Result<Vec<String>> {
    Ok(text_arg_opt(who, exprs, position)?
        .map(|t| names(&t))
        .unwrap_or_default())
}

/// `"a, b ,c"` as `["a", "b", "c"]` (empty items dropped).
pub fn names(list: &str) -> Vec<String> {
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `"a = b, c"` as the pairs (left, right) `[a, c]`, `[b, c]` (one name stands for both sides;
/// `form` shows a pair in the error).
pub fn key_pairs(who: &str, text: &str, form: &str) -> Result<(Vec<String>, Vec<String>)> {
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (a, b) = match item.split_once('=') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (item, item),
        };
        if a.is_empty() || b.is_empty() || b.contains('=') {
            return Err(DataFusionError::Plan(format!(
                "{who}: cannot read the key {item:?}: write {form}"
            )));
        }
        left.push(a.to_string());
        right.push(b.to_string());
    }
    Ok((left, right))
}
