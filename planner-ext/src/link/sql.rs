//! `ltseq_link('source', 'target', 'keys', 'alias' [, 'left' | 'inner'])` in Rust sessions.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;

use super::spec::{LinkJoin, LinkSpec, LINK_FUNCTION_NAME};
use super::table::LinkTableProvider;
use crate::ordered::sql_args::{arity, key_pairs, text_arg};
use crate::ordered::{InputTable, Tables};

/// Parses `a = b, c` into (source keys, target keys).
pub fn parse_keys(text: &str) -> Result<(Vec<String>, Vec<String>)> {
    let (s, t) = key_pairs(LINK_FUNCTION_NAME, text, "source_column = target_column")?;
    if s.is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{LINK_FUNCTION_NAME}: give at least one key (source_column = target_column)"
        )));
    }
    Ok((s, t))
}

/// `ltseq_link('source', 'target', 'keys', 'alias' [, 'left' | 'inner'])`: `keys` is a
/// comma-separated list of `source_column = target_column` (or one name for both sides);
/// target columns come out as `alias_column`.
pub(super) fn table_function(args: &[Expr], tables: &dyn Tables) -> Result<Arc<dyn TableProvider>> {
    let exprs = arity(
        LINK_FUNCTION_NAME,
        args,
        4,
        5,
        "'source', 'target', 'source_key = target_key', 'alias' [, 'left' | 'inner']",
    )?;
    let source = text_arg(LINK_FUNCTION_NAME, &exprs[0], 1)?;
    let target = text_arg(LINK_FUNCTION_NAME, &exprs[1], 2)?;
    let (source_keys, target_keys) = parse_keys(&text_arg(LINK_FUNCTION_NAME, &exprs[2], 3)?)?;
    let alias = text_arg(LINK_FUNCTION_NAME, &exprs[3], 4)?;
    if alias.trim().is_empty() {
        return Err(DataFusionError::Plan(format!(
            "{LINK_FUNCTION_NAME}: the alias cannot be empty"
        )));
    }
    let join = match exprs.get(4) {
        Some(e) => LinkJoin::parse(&text_arg(LINK_FUNCTION_NAME, e, 5)?)?,
        None => LinkJoin::Left,
    };
    let source = InputTable::lookup(tables, &source, LINK_FUNCTION_NAME)?;
    let target = InputTable::lookup(tables, &target, LINK_FUNCTION_NAME)?;
    let spec = LinkSpec {
        source_keys,
        target_keys,
        fetch: vec![],
        prefix: format!("{}_", alias.trim()),
        join,
    };
    Ok(Arc::new(LinkTableProvider::try_new(
        source.name,
        source.schema,
        target.name,
        target.schema,
        spec,
    )?))
}
