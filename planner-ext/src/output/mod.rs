//! The `Output` operator: a relation's rows in its order, sorted only when they are not in
//! order already.
//!
//! The DSL reads every result through it (`to_arrow`, iteration, `show`, `to_datafusion`, ...)
//! instead of a SQL `ORDER BY`: a host sorts everything above ltseq's operators again, because
//! orderings that cross the FFI are foreign expressions it cannot match with its own columns.
//! This operator proves the order of its input itself ([`crate::ordered::order`]): when the
//! rows come in order (one partition, or partitions that follow one another, as ltseq's
//! operators produce them), it reads them as they are; when each partition is in order, it
//! merges them; only otherwise does it sort. A limit stops the reading early.
//!
//! - [`exec`]: the kernel ([`OutputExec`]).
//! - [`table`]: the DSL's table ([`OutputTableProvider`]).

mod exec;
mod table;

use std::marker::PhantomData;

use crate::ordered::{ExecKind, Operator};

pub use exec::{Output, OutputExec, OutputSpec, Read, SortKey};
pub use table::{OutputTable, OutputTableProvider};

pub(crate) static OPERATOR: Operator = Operator::new("Output", &[&ExecKind::<Output>(PhantomData)]);
