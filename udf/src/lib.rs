//! ltseq SQL functions for Apache DataFusion.
//!
//! Every function here is a user-defined window function (`WindowUDFImpl`) in the style of
//! DataFusion's own `functions-window` crate: one function per file, a [`Documentation`]
//! that feeds the SQL reference in `docs/`, a signature that coerces its arguments at
//! planning time, and an expression helper for the DataFrame API.
//!
//! ```
//! # async fn demo() -> datafusion::error::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = SessionContext::new();
//! ltseq_udf::register_all(&ctx)?;
//! ctx.sql("SELECT v, run_id(v) OVER (ORDER BY t) AS run FROM (VALUES (1, 'a'), (2, 'a'), (3, 'b')) AS s(t, v)")
//!     .await?
//!     .show()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`Documentation`]: datafusion::logical_expr::Documentation

use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;

mod args;
mod clauses;
pub mod cumulative;
pub mod difference;
pub mod docs;
mod registry;
pub mod rolling;
pub mod run_id;
pub mod segments;
mod util;

pub use cumulative::{cumulative, cumulative_udwf, CumulativeKind};
pub use difference::{difference, difference_udwf, DifferenceKind};
pub use registry::{all_window_udfs, window_udf};
pub use rolling::{rolling, rolling_udwf, RollingKind};
pub use run_id::{run_id, run_id_udwf};
pub use segments::{segmented_evaluator, SegmentedEvaluator, Segments};

/// The DataFusion major version this crate is built against. The Python package checks the
/// host's version against it before installing any function through the FFI.
pub const DATAFUSION_MAJOR: u64 = 55;

/// Registers every ltseq SQL function in a Rust [`SessionContext`]. Calling it twice is harmless:
/// the second call replaces each function with an identical one.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    for udwf in all_window_udfs() {
        ctx.register_udwf(udwf.as_ref().clone());
    }
    Ok(())
}

/// Registers every ltseq SQL function in any [`FunctionRegistry`] (for example a `SessionState`).
pub fn register_all_in(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for udwf in all_window_udfs() {
        registry.register_udwf(udwf)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    #[tokio::test]
    async fn register_all_twice_is_harmless() -> Result<()> {
        let ctx = SessionContext::new();
        register_all(&ctx)?;
        register_all(&ctx)?;
        let batches = ctx
            .sql("SELECT run_id(k) OVER (ORDER BY t) AS r FROM (VALUES (1, 'a'), (2, 'a'), (3, 'b')) AS s(t, k) ORDER BY t")
            .await?
            .collect()
            .await?;
        let r = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("Int64");
        assert_eq!(r.values().to_vec(), vec![1, 1, 2]);
        for udwf in all_window_udfs() {
            assert!(
                udwf.documentation().is_some(),
                "{} has no documentation",
                udwf.name()
            );
        }
        Ok(())
    }
}
