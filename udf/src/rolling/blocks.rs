//! Sliding windows evaluated from within-block partial aggregates, so that every window's
//! result is computed from the rows of that window only.
//!
//! A partition is cut into blocks of `w` rows. The window of `w` rows ending at row `i` is then
//! either the prefix of `i`'s block up to `i` (in the first block, and at each block's last
//! row), or the suffix of the previous block from the window's first row joined with that
//! prefix. Prefixes are folded going forward, suffixes going backward, one block at a time:
//! strictly O(n), O(w) memory, and no value that has left a window (an outlier of 1e16, an
//! overflow to infinity, a NaN) can leave any trace in a later window, as the running sums and
//! prefix differences of a sliding add-and-remove do.

use std::ops::Range;

/// Calls `emit(i, aggregate)` for every row `i` of `range`, in ascending order, with the
/// aggregate of the window of at most `w` rows ending at `i` that starts no earlier than
/// `range.start`. `fold(a, j)` adds row `j` to aggregate `a` (from either side: the
/// aggregate must not depend on the order rows are added in, beyond rounding), and
/// `join(earlier, later)` combines the aggregates of two adjacent runs of rows. `scratch` is
/// reused across calls.
pub(super) fn block_windows<A: Copy>(
    range: Range<usize>,
    w: usize,
    empty: A,
    fold: impl Fn(A, usize) -> A,
    join: impl Fn(A, A) -> A,
    scratch: &mut (Vec<A>, Vec<A>),
    mut emit: impl FnMut(usize, A),
) {
    let (start, end) = (range.start, range.end);
    let w = w.max(1);
    let (suffix, next) = scratch;
    let (mut block, mut previous) = (start, start);
    while block < end {
        let block_end = block.saturating_add(w).min(end);
        let more = block_end < end;
        if more {
            next.clear();
            next.resize(block_end - block, empty);
        }
        // this block's prefixes (emitting) and, for the next block, its suffixes: two
        // independent chains in one loop, so the processor overlaps them
        let (mut prefix, mut back) = (empty, empty);
        for k in 0..block_end - block {
            let i = block + k;
            prefix = fold(prefix, i);
            // the window's first row: `i + 1 - w`, in the previous block unless it is this one's
            let first = i + 1 - w.min(i + 1);
            if block == start || first >= block {
                emit(i, prefix);
            } else {
                emit(i, join(suffix[first - previous], prefix));
            }
            if more {
                let j = block_end - 1 - k;
                back = fold(back, j);
                next[j - block] = back;
            }
        }
        if more {
            std::mem::swap(suffix, next);
            previous = block;
        }
        block = block_end;
    }
}

#[cfg(test)]
mod tests {
    use super::block_windows;

    #[test]
    fn every_window_is_exactly_its_rows() {
        for n in 0..40usize {
            for w in 1..12usize {
                let start = 3usize;
                let mut got = Vec::new();
                let mut scratch = (Vec::new(), Vec::new());
                // the aggregate is the set of rows as a bit mask: it must be exactly the window
                block_windows(
                    start..start + n,
                    w,
                    0u64,
                    |a, j| a | (1u64 << j),
                    |a, b| {
                        assert_eq!(a & b, 0, "joined runs overlap");
                        a | b
                    },
                    &mut scratch,
                    |i, a| got.push((i, a)),
                );
                let want: Vec<(usize, u64)> = (start..start + n)
                    .map(|i| {
                        let first = (i + 1).saturating_sub(w).max(start);
                        (i, (first..=i).fold(0u64, |a, j| a | (1u64 << j)))
                    })
                    .collect();
                assert_eq!(got, want, "n={n} w={w}");
            }
        }
    }
}
