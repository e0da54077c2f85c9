//! ltseq's operator plane: extension logical nodes with their own physical operators, the
//! planners that put them into a DataFusion plan, and the codecs that carry them across
//! serialization (and so across the FFI boundary into a stock `datafusion` Python context).
//!
//! Layout (see `docs/architecture.md`, "Adding an operator"):
//!
//! - [`ordered`]: the shared core every operator is built on ([`ordered::OrderedExec`],
//!   [`ordered::OrderedNode`], [`ordered::OperatorProvider`], reading ordered inputs, guards).
//! - One module per operator: [`sequence`], [`window`], [`group_ordered`], [`link`], [`asof`],
//!   [`join`], [`pattern`]. Each defines a `static OPERATOR` ([`ordered::Operator`]); [`OPERATORS`]
//!   lists them, and is all the plane knows of them.
//! - The plane: [`planner`] (the extension planner and ltseq's query planner), [`codec`]
//!   (logical and physical codecs), [`reference`] (the SQL reference of the table functions).
//!
//! Every operator is reached two ways:
//!
//! 1. **Query planner** ([`LtseqQueryPlanner`]): a scan of an operator's table (a Rust SQL table
//!    function, or the DSL's table) is rewritten into the operator's logical node, planned by
//!    [`LtseqExtensionPlanner`] into the operator with inputs visible to the optimizer.
//! 2. **Table provider**: the operator's table scans its inputs itself and wraps them in the
//!    operator with its inputs hidden from the host's optimizer (which could reorder them).

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

pub mod asof;
pub mod codec;
pub mod group_ordered;
mod host;
pub mod join;
pub mod link;
pub mod ordered;
pub mod output;
pub mod pattern;
mod planner;
pub mod reference;
pub mod sequence;
pub mod window;

pub use asof::{AsofExec, AsofSpec, AsofStrategy, AsofTableProvider, Tolerance};
pub use codec::{LtseqLogicalCodec, LtseqPhysicalCodec};
pub use group_ordered::{
    AggCall, Boundary, GroupOrderedExec, GroupOrderedNode, GroupOrderedSpec,
    GroupOrderedTableProvider, Lag, SplitPredicate,
};
pub use link::{LinkExec, LinkJoin, LinkNode, LinkSpec, LinkTableProvider};
pub use ordered::{Functions, InputOrder, TableFunction, Tables};
pub use pattern::{PatternExec, PatternOutput, PatternTableProvider};
pub use planner::{LtseqExtensionPlanner, LtseqPhysicalRule, LtseqQueryPlanner};
pub use sequence::{
    SequenceExec, SequenceNode, SequenceTableProvider, DEFAULT_ORDINAL_COLUMN,
    SEQUENCE_FUNCTION_NAME,
};
pub use window::{WindowArg, WindowCall, WindowExec, WindowTableProvider};

/// Every operator of ltseq: adding one is a new module and a line here.
pub static OPERATORS: &[&ordered::Operator] = &[
    &sequence::OPERATOR,
    &window::OPERATOR,
    &group_ordered::OPERATOR,
    &link::OPERATOR,
    &asof::OPERATOR,
    &join::OPERATOR,
    &pattern::OPERATOR,
    &output::OPERATOR,
];

/// ltseq's table functions (the SQL surface of its operators).
pub fn table_functions() -> impl Iterator<Item = &'static TableFunction> {
    OPERATORS.iter().flat_map(|o| o.table_functions.iter())
}

/// Registers ltseq's table functions in a Rust context.
pub fn register_table_functions(ctx: &SessionContext) {
    for function in table_functions() {
        ctx.register_udtf(function.name, function.in_session());
    }
}

/// A `SessionContext` with everything ltseq offers a Rust user: the SQL functions, the table
/// functions, and ltseq's query planner (which plans ltseq's extension nodes).
pub fn session_context_with_ltseq(config: SessionConfig) -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_query_planner(Arc::new(LtseqQueryPlanner::new()))
        .with_physical_optimizer_rule(Arc::new(LtseqPhysicalRule))
        .build();
    let ctx = SessionContext::new_with_state(state);
    ltseq_udf::register_all(&ctx)?;
    register_table_functions(&ctx);
    Ok(ctx)
}
