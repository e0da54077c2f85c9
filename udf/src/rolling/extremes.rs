//! Rolling minimum and maximum.

use std::collections::VecDeque;
use std::sync::Arc;

use datafusion::arrow::array::{
    downcast_primitive_array, Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray,
};
use datafusion::arrow::datatypes::{ArrowNativeTypeOp, DataType};
use datafusion::error::Result;

use super::sums::window_counts;
use crate::args::plan_err;
use crate::segments::Segments;
use crate::util::NullableBuilder;

/// Rolling min or max with a monotonic deque: each row enters and leaves the deque once; the
/// deque starts empty at each partition of `segs`.
fn rolling_extreme_prim<T: ArrowPrimitiveType>(
    x: &PrimitiveArray<T>,
    w: usize,
    mp: usize,
    max: bool,
    segs: &Segments,
) -> PrimitiveArray<T> {
    if x.null_count() == 0 {
        return rolling_extreme_dense(x, w, mp, max, segs);
    }
    let n = x.len();
    let values = x.values();
    let counts = window_counts(x, w, segs);
    let mut deque: VecDeque<usize> = VecDeque::with_capacity(w.min(n));
    let mut out = NullableBuilder::<T>::with_capacity(n);
    let mut starts = segs.ranges().map(|r| r.start).peekable();
    for i in 0..n {
        if starts.peek() == Some(&i) {
            starts.next();
            deque.clear();
        }
        if let Some(&front) = deque.front() {
            if front + w <= i {
                deque.pop_front();
            }
        }
        if x.is_valid(i) {
            let v = values[i];
            while let Some(&back) = deque.back() {
                let b = values[back];
                let dominated = if max { !b.is_gt(v) } else { !b.is_lt(v) };
                if dominated {
                    deque.pop_back();
                } else {
                    break;
                }
            }
            deque.push_back(i);
        }
        out.push(if counts[i] >= mp {
            deque.front().map(|&j| values[j])
        } else {
            None
        });
    }
    out.finish().with_data_type(x.data_type().clone())
}

/// Rolling min or max without NULLs, by blocks (van Herk / Gil-Werman): within each block of
/// `w` rows a running extreme from the block start and one from the block end; the window
/// ending at row `i` spans at most two blocks, so its extreme is the better of the two. Three
/// comparisons per row, no data-dependent branching. Blocks are counted from each partition's
/// first row.
fn rolling_extreme_dense<T: ArrowPrimitiveType>(
    x: &PrimitiveArray<T>,
    w: usize,
    mp: usize,
    max: bool,
    segs: &Segments,
) -> PrimitiveArray<T> {
    let values = x.values();
    let n = values.len();
    let better = |a: T::Native, b: T::Native| -> T::Native {
        let a_wins = if max { a.is_gt(b) } else { a.is_lt(b) };
        if a_wins {
            a
        } else {
            b
        }
    };
    // prefix[i]: extreme from the start of i's block to i; suffix[i]: from i to its block end.
    let mut prefix = values.to_vec();
    let mut suffix = values.to_vec();
    for r in segs.ranges() {
        for start in r.clone().step_by(w) {
            let end = (start + w).min(r.end);
            for i in start + 1..end {
                prefix[i] = better(prefix[i - 1], prefix[i]);
            }
            for i in (start..end - 1).rev() {
                suffix[i] = better(suffix[i], suffix[i + 1]);
            }
        }
    }
    let mut out = NullableBuilder::<T>::with_capacity(n);
    for r in segs.ranges() {
        for i in r.clone() {
            let head = prefix[i];
            let seen = i + 1 - r.start;
            if seen.min(w) < mp {
                out.push(None);
            } else if seen < w {
                out.push(Some(head));
            } else {
                out.push(Some(better(suffix[i + 1 - w], head)));
            }
        }
    }
    out.finish().with_data_type(x.data_type().clone())
}

pub(super) fn rolling_extreme(
    x: &ArrayRef,
    w: usize,
    mp: usize,
    max: bool,
    segs: &Segments,
) -> Result<ArrayRef> {
    downcast_primitive_array!(
        x => Ok(Arc::new(rolling_extreme_prim(x, w, mp, max, segs))),
        DataType::Null => Ok(Arc::clone(x)),
        other => plan_err(format!("{}: unsupported type {other}", if max { "rolling_max" } else { "rolling_min" }))
    )
}
