//! Clauses of a window call that ltseq's functions cannot honour are errors, never ignored.
//!
//! An ltseq function's window is given by its arguments (`rolling_sum(v, 3)`: three rows;
//! `cum_sum(v)`: every row so far), so a window frame, `DISTINCT` or `IGNORE NULLS` would
//! change its meaning, and DataFusion would silently drop them. The frame and `DISTINCT` are
//! only visible in the call's display name, which DataFusion builds as
//! `name([DISTINCT ]args)[ IGNORE NULLS][ PARTITION BY [..]][ ORDER BY [..]] FRAME` and passes
//! to `field()` at planning time, also across the FFI; `IGNORE NULLS` reaches the evaluator.

use datafusion::error::Result;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};

use crate::args::plan_err;

/// The frames DataFusion gives a call that states none (with `ORDER BY`, without it, and for
/// a strict order): each means "the function's own window".
const DEFAULT_FRAMES: [&str; 3] = [
    "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
];

/// The frame at the end of a window call's display name, if it ends with one.
fn frame_of(display: &str) -> Option<&str> {
    let at = ["ROWS", "RANGE", "GROUPS"]
        .iter()
        .filter_map(|units| display.rfind(&format!(" {units} BETWEEN ")))
        .max()?;
    let frame = &display[at + 1..];
    let (_, bounds) = frame.split_once(" BETWEEN ")?;
    let (start, end) = bounds.split_once(" AND ")?;
    let bound = |b: &str| {
        matches!(
            b,
            "UNBOUNDED PRECEDING" | "UNBOUNDED FOLLOWING" | "CURRENT ROW"
        ) || b
            .strip_suffix(" PRECEDING")
            .or_else(|| b.strip_suffix(" FOLLOWING"))
            .is_some_and(|n| !n.is_empty() && !n.contains(' '))
    };
    (bound(start) && bound(end)).then_some(frame)
}

/// Planning-time check of a call of `function`: no `DISTINCT`, no explicit window frame.
pub(crate) fn check_call(function: &str, args: &WindowUDFFieldArgs) -> Result<()> {
    let display = args.name();
    if display.starts_with(&format!("{function}(DISTINCT ")) {
        return plan_err(format!(
            "{function} does not take DISTINCT: it sees every row of its window; \
             deduplicate the input first"
        ));
    }
    if let Some(frame) = frame_of(display) {
        if !DEFAULT_FRAMES.contains(&frame) {
            return plan_err(format!(
                "{function} does not take a window frame ({frame}): its window is given by its \
                 arguments (see the SQL reference); remove the frame, or use DataFusion's \
                 aggregate window functions (sum, avg, ...) with it"
            ));
        }
    }
    Ok(())
}

/// Execution-time check of a call of `function`: no `IGNORE NULLS` (ltseq's functions state
/// their own NULL rules).
pub(crate) fn check_evaluator(function: &str, args: &PartitionEvaluatorArgs) -> Result<()> {
    if args.ignore_nulls() {
        return plan_err(format!(
            "{function} does not take IGNORE NULLS: its NULL rule is stated in the SQL reference"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::frame_of;

    #[test]
    fn frames_are_found_only_at_the_end() {
        let f = |s| frame_of(s);
        assert_eq!(
            f("cum_sum(t.v) ORDER BY [t.i ASC NULLS LAST] ROWS BETWEEN 1 PRECEDING AND CURRENT ROW"),
            Some("ROWS BETWEEN 1 PRECEDING AND CURRENT ROW")
        );
        assert_eq!(
            f("rolling_sum(t.v,Int64(3)) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"),
            Some("ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING")
        );
        // a literal that looks like a frame, with no frame after it
        assert_eq!(
            f("cum_sum(Utf8(\"a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW\"))"),
            None
        );
        assert_eq!(f("__ltseq_w0"), None);
    }
}
