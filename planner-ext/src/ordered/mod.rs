//! The ordered core: what every ltseq operator needs, written once.
//!
//! - [`exec`]: [`OrderedExec`], the one `ExecutionPlan` of every operator. An operator supplies
//!   a [`Kernel`] (its spec, properties and streams); `OrderedExec` adds the rest: hiding the
//!   inputs from a host's optimizer (the table-provider route) or showing them (the planner
//!   route), rebuilding on new children, panic guards, `EXPLAIN` text.
//! - [`node`]: [`OrderedNode`], the one logical extension node, over a [`NodeSpec`].
//! - [`provider`]: [`OperatorProvider`], the one `TableProvider` skeleton, over an
//!   [`OperatorTable`].
//! - [`input`]: reading an operator's input in sequence order (one stream, partitions one
//!   after another, or partitions in parallel), and the task context its inputs run in.
//! - [`layout`]: [`Layout`], how a one-input operator reads its input (one stream, or
//!   partitions in parallel) and lays out its output partitions.
//! - [`memory`]: [`memory::Held`], the bytes an operator holds, in its context's pool, and
//!   the pool of a host session whose runtime the FFI does not carry.
//! - [`order`]: the proven order of a plan's rows (ltseq's operators declare it; a host's nodes
//!   are followed by name).
//! - [`catalog`]: finding input tables by name in a session.
//! - [`keys`]: [`keys::KeyIds`], equal keys across two inputs (a dense id per distinct key).
//! - [`build_side`]: an input read whole once per execution and shared by the partitions.
//! - [`declared`]: in-memory tables whose (checked) order is declared to DataFusion.
//! - [`hidden`]: [`hidden::HiddenPlanExec`], a plan handed across the FFI in-process, as it is.
//! - [`functions`]: the scalar functions an operator's own SQL expressions may call.
//! - [`registry`]: [`Operator`], what an operator registers with the planner, the codecs and the
//!   SQL reference.
//! - [`guard`], [`sql_args`], [`rewrite`], [`scalar_serde`]: panic guards, table-function
//!   arguments, scan-to-node rewrites, and constants in serialized specs.
//!
//! No module here uses an operator's code; the one thing the core knows of operators is the
//! names of the two whose partitions keep the stored order (`input::ORDER_KEEPING_OPERATORS`),
//! because a host's plan, seen through the FFI, shows only names.

pub mod build_side;
pub mod catalog;
pub mod declared;
pub mod exec;
pub mod functions;
pub mod guard;
pub mod hidden;
pub mod input;
pub mod keys;
pub mod layout;
pub mod memory;
pub mod node;
pub mod order;
pub mod provider;
pub mod registry;
pub mod rewrite;
pub mod scalar_serde;
pub mod sql_args;

pub use catalog::{lookup_table, table_not_found, InputTable, OrderedInput, SessionTables, Tables};
pub use exec::{incremental, one_input, Batches, InputNeeds, Kernel, OrderedExec, Plan};
pub use functions::{unknown_function, Functions};
pub use input::{read_sorted, InputOrder, REORDERED};
pub use layout::{HasLayout, Layout};
pub use node::{NodeSpec, OrderedNode};
pub use provider::{OperatorProvider, OperatorTable, Scan};
pub use registry::{ExecKind, NodeKind, Operator, TableFunction};
