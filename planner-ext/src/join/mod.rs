//! The `Join` operator: an equi-join that keeps order. Each left row meets the right rows with
//! equal keys, in the right's order (`inner`), or a row of NULLs when there are none (`left`);
//! `semi` and `anti` keep the left rows that have (have no) match. The right side is read once
//! and grouped by key; the left streams, partition by partition, in parallel, and output
//! partition `p` is left partition `p` in its order. With an ordinal column, each output row
//! gets an increasing number within its partition (partition `p` from `p * 2^40`), so the
//! output is ordered by the left's order, then that ordinal: the left's order with each left
//! row's matches in the right's order, without a sort.
//!
//! It serves the DSL's `join` (the inner, left, semi and anti joins; SQL's joins stay
//! DataFusion's own).
//!
//! - [`spec`]: [`JoinSpec`] and the output schema; [`exec`]: the kernel ([`JoinExec`]).
//! - [`table`]: the DSL's table ([`JoinTableProvider`]).

mod exec;
mod spec;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, Operator};

pub use exec::{Join, JoinExec};
pub use spec::{JoinKind, JoinSpec};
pub use table::{JoinTable, JoinTableProvider};

pub(crate) static OPERATOR: Operator = Operator::new("Join", &[&ExecKind::<Join>(PhantomData)]);
