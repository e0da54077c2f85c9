//! The `Window` operator: evaluates window functions over an input that is already ordered,
//! one partition at a time, without sorting and without buffering more than the partition in
//! hand.
//!
//! DataFusion's `WindowAggExec` sorts its input by the partition and order keys, concatenates
//! the whole input into one batch, then evaluates each function partition by partition. When
//! the input's order is already the window order (a table declared sorted with `assume_sorted`,
//! or sorted once upstream), the rows of each window partition arrive contiguously, and this
//! operator evaluates the same functions, through the same `PartitionEvaluator::evaluate_all`
//! of the same `WindowUDF`s (ltseq's and DataFusion's `lag`, `lead`, `row_number`, `ntile`), as
//! soon as a partition is complete. The results are therefore identical to the SQL functions;
//! only the work around them differs. Output batches are the input batches with the window
//! columns appended, in input order.
//!
//! Memory: the rows of the open partition (a partition spanning batches is held until it
//! ends); with no `PARTITION BY` that is the whole input, as for `WindowAggExec`.
//!
//! - [`call`]: the functions it runs, calls resolved against the input, [`describe_call`].
//! - [`exec`]: the kernel ([`WindowExec`]); [`stream`]: its stream.
//! - [`table`]: the table-provider route ([`WindowTableProvider`]).
//! - [`rewrite`]: SQL windows of ltseq's functions moved onto the operator by ltseq's planner.

mod call;
mod exec;
mod rewrite;
mod stream;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, Operator};

pub use call::{
    describe_call, window_function, CallArg, CallError, CallInfo, WindowArg, WindowCall,
};
pub use exec::{window_schema, Window, WindowExec, WindowSpec};
pub use table::{WindowTable, WindowTableProvider};

pub use rewrite::windows_on_operator;

pub(crate) static OPERATOR: Operator = Operator::new("Window", &[&ExecKind::<Window>(PhantomData)])
    .with_plan_rewrite(rewrite::windows_on_operator);
