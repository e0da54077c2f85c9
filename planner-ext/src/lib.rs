//! ltseq's operator plane: extension logical nodes with their own physical operators, the
//! planners that put them into a DataFusion plan, and the codecs that carry them across
//! serialization (and so across the FFI boundary into a stock `datafusion` Python context).
//!
//! The first operator is [`sequence`]: it numbers the rows of its input in input order and so
//! keeps that order available to everything above it. It can be reached two ways, which are
//! the two routes every ltseq operator uses (see `docs/architecture.md`):
//!
//! 1. **Query planner** ([`LtseqQueryPlanner`]): the SQL surface `ltseq_sequence('table')` is a
//!    table function whose scan the planner rewrites into the logical [`SequenceNode`], planned
//!    by [`LtseqExtensionPlanner`] into a [`SequenceExec`] whose input is visible to the
//!    optimizer.
//! 2. **Table provider** ([`SequenceTableProvider`]): without the planner, the same table
//!    function's provider scans its input itself and wraps it in a [`SequenceExec`] that hides
//!    its input from the host's optimizer (which could otherwise reorder it).

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

pub mod codec;
pub mod group_node;
pub mod group_ordered;
pub mod group_sql;
mod guard;
pub mod link;
pub mod pattern;
pub mod planner;
pub mod reference;
pub mod scan;
pub mod sequence;
pub mod split;
mod sql_args;
pub mod window;

pub use codec::{LtseqLogicalCodec, LtseqPhysicalCodec};
pub use group_node::{GroupOrderedNode, GroupOrderedSpec};
pub use group_ordered::{AggCall, Boundary, GroupOrderedExec, GroupOrderedTableProvider};
pub use link::{LinkExec, LinkJoin, LinkNode, LinkSpec, LinkTableFunction, LinkTableProvider};
pub use pattern::{PatternExec, PatternOutput, PatternTableFunction, PatternTableProvider};
pub use planner::{LtseqExtensionPlanner, LtseqQueryPlanner};
pub use scan::{SequenceTableFunction, SequenceTableProvider, SEQUENCE_FUNCTION_NAME};
pub use sequence::{SequenceExec, SequenceNode, DEFAULT_ORDINAL_COLUMN};
pub use split::{Lag, SplitPredicate};
pub use window::{WindowArg, WindowCall, WindowExec, WindowTableProvider};

/// Registers ltseq's table functions (the SQL surface of its operators) in a Rust context.
pub fn register_table_functions(ctx: &SessionContext) {
    ctx.register_udtf(SEQUENCE_FUNCTION_NAME, Arc::new(SequenceTableFunction));
    ctx.register_udtf(
        group_sql::GROUP_ORDERED_FUNCTION_NAME,
        Arc::new(group_sql::GroupOrderedTableFunction { split: false }),
    );
    ctx.register_udtf(
        group_sql::GROUP_SPLIT_FUNCTION_NAME,
        Arc::new(group_sql::GroupOrderedTableFunction { split: true }),
    );
    ctx.register_udtf(link::LINK_FUNCTION_NAME, Arc::new(LinkTableFunction));
    ctx.register_udtf(
        pattern::SEARCH_PATTERN_FUNCTION_NAME,
        Arc::new(PatternTableFunction { count: false }),
    );
    ctx.register_udtf(
        pattern::SEARCH_PATTERN_COUNT_FUNCTION_NAME,
        Arc::new(PatternTableFunction { count: true }),
    );
}

/// A `SessionContext` with everything ltseq offers a Rust user: the SQL functions, the table
/// functions, and ltseq's query planner (which plans ltseq's extension nodes).
pub fn session_context_with_ltseq(config: SessionConfig) -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_query_planner(Arc::new(LtseqQueryPlanner::new(None)))
        .build();
    let ctx = SessionContext::new_with_state(state);
    ltseq_udf::register_all(&ctx)?;
    register_table_functions(&ctx);
    Ok(ctx)
}
