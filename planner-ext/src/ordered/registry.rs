//! [`Operator`]: what one operator registers with ltseq's plane. Each operator folder defines
//! one `static OPERATOR: Operator`, and `lib.rs` lists them; the planner, both codecs, the
//! Rust table functions and the SQL reference read that list and know no operator by name.

use std::marker::PhantomData;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, TableScan, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use serde_json::Value;

use super::catalog::{SessionTables, Tables};
use super::exec::{Kernel, OrderedExec};
use super::functions::Functions;
use super::guard::no_panic;
use super::node::{NodeSpec, OrderedNode};
use super::order::Order;

/// Rewrites a scan of one of the operator's tables into its logical node (ltseq's query
/// planner does this for every scan); `None` when the table is not the operator's or stays a
/// table (for example a view input, which the host must plan).
pub type RewriteScan =
    fn(&TableScan, &dyn TableProvider, &dyn Session) -> Result<Option<LogicalPlan>>;

/// What a table function does with its arguments: the table it returns, the input tables
/// found in `tables`.
pub type TableFunctionCall = fn(&[Expr], &dyn Tables) -> Result<Arc<dyn TableProvider>>;

/// One of ltseq's table functions (`ltseq_link`, ...): in a Rust session a
/// [`TableFunctionImpl`] ([`Self::in_session`]); in a stock Python context a Python table
/// function calls [`Self::call`] with tables the host looks up.
pub struct TableFunction {
    pub name: &'static str,
    call: TableFunctionCall,
}

impl TableFunction {
    pub const fn new(name: &'static str, call: TableFunctionCall) -> Self {
        Self { name, call }
    }

    /// The function called with `args`; a panic is an error.
    pub fn call(&self, args: &[Expr], tables: &dyn Tables) -> Result<Arc<dyn TableProvider>> {
        no_panic(self.name, || (self.call)(args, tables))
    }

    /// The function as a Rust session's table function (input tables from the session's
    /// catalogs).
    pub fn in_session(&'static self) -> Arc<dyn TableFunctionImpl> {
        Arc::new(InSession(self))
    }
}

#[derive(Debug)]
struct InSession(&'static TableFunction);

impl std::fmt::Debug for TableFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TableFunction({})", self.name)
    }
}

impl TableFunctionImpl for InSession {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        self.0.call(args.exprs(), &SessionTables(args.session()))
    }
}

/// One operator, as the plane sees it.
pub struct Operator {
    /// `Sequence`, `Window`, ...
    pub name: &'static str,
    /// Its section of the SQL reference (markdown; empty without a SQL surface).
    pub reference: &'static str,
    pub table_functions: &'static [TableFunction],
    /// Its logical nodes (planned and serialized by the plane).
    pub nodes: &'static [&'static dyn NodeCodec],
    /// Its physical operators (serialized by the plane).
    pub execs: &'static [&'static dyn ExecCodec],
    pub rewrite_scan: Option<RewriteScan>,
    /// Tables of its written by value in logical plans (others travel as in-process handles).
    pub providers: &'static [&'static dyn ProviderCodec],
    /// Rewrites a physical plan ltseq's planner made (nodes of DataFusion's it stands in for).
    pub rewrite_plan: Option<PlanRewrite>,
}

/// A rewrite of a whole physical plan.
pub type PlanRewrite = fn(Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>>;

impl Operator {
    /// An operator with physical operators only (no SQL surface, no logical node, no tables
    /// written by value); the `with_*` methods add the rest.
    pub const fn new(name: &'static str, execs: &'static [&'static dyn ExecCodec]) -> Self {
        Self {
            name,
            reference: "",
            table_functions: &[],
            nodes: &[],
            execs,
            rewrite_scan: None,
            providers: &[],
            rewrite_plan: None,
        }
    }

    /// Its SQL surface: the reference text and the Rust table functions.
    pub const fn with_sql(
        self,
        reference: &'static str,
        table_functions: &'static [TableFunction],
    ) -> Self {
        Self {
            reference,
            table_functions,
            ..self
        }
    }

    /// Its logical nodes, and how a scan of its table becomes one.
    pub const fn with_nodes(
        self,
        nodes: &'static [&'static dyn NodeCodec],
        rewrite_scan: RewriteScan,
    ) -> Self {
        Self {
            nodes,
            rewrite_scan: Some(rewrite_scan),
            ..self
        }
    }

    /// Its tables written by value in logical plans.
    pub const fn with_providers(self, providers: &'static [&'static dyn ProviderCodec]) -> Self {
        Self { providers, ..self }
    }

    /// Its rewrite of the physical plans ltseq's planner makes.
    pub const fn with_plan_rewrite(self, rewrite_plan: PlanRewrite) -> Self {
        Self {
            rewrite_plan: Some(rewrite_plan),
            ..self
        }
    }
}

/// A logical node kind: recognized, planned and serialized without knowing its type.
pub trait NodeCodec: Sync {
    fn name(&self) -> &'static str;
    fn is(&self, node: &dyn UserDefinedLogicalNode) -> bool;
    /// The node's spec, when `node` is of this kind.
    fn encode(&self, node: &dyn UserDefinedLogicalNode) -> Result<Option<Value>>;
    fn decode(
        &self,
        spec: Value,
        inputs: &[LogicalPlan],
    ) -> Result<Arc<dyn UserDefinedLogicalNode>>;
    /// The physical operator, when `node` is of this kind.
    fn plan(
        &self,
        node: &dyn UserDefinedLogicalNode,
        inputs: &[Arc<dyn ExecutionPlan>],
        functions: &Functions,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>>;
}

/// A physical operator, encoded: its spec, and its inputs (hidden ones travel as handles).
pub struct EncodedExec {
    pub spec: Value,
    pub hidden: bool,
    pub inputs: Vec<Arc<dyn ExecutionPlan>>,
}

/// A physical operator kind, serialized without knowing its type.
pub trait ExecCodec: Sync {
    fn name(&self) -> &'static str;
    fn encode(&self, plan: &dyn ExecutionPlan) -> Result<Option<EncodedExec>>;
    /// The operator `encode` gave, rebuilt (the inverse of `encode`).
    fn decode(&self, encoded: EncodedExec, functions: &Functions)
        -> Result<Arc<dyn ExecutionPlan>>;
    /// The order of `plan`'s whole output ([`Kernel::order`]), when `plan` is of this kind.
    fn order(&self, plan: &dyn ExecutionPlan) -> Option<Option<Order>>;
}

/// A table written by value in logical plans.
pub trait ProviderCodec: Sync {
    fn name(&self) -> &'static str;
    fn encode(&self, provider: &dyn TableProvider) -> Result<Option<Value>>;
    fn decode(&self, spec: Value, schema: SchemaRef) -> Result<Arc<dyn TableProvider>>;
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| DataFusionError::Internal(format!("ltseq codec: {e}")))
}

fn from_value<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| DataFusionError::Internal(format!("ltseq codec: not a {what} spec: {e}")))
}

/// The [`NodeCodec`] of `OrderedNode<S>` (`NodeKind(PhantomData)`).
pub struct NodeKind<S>(pub PhantomData<fn() -> S>);

impl<S: NodeSpec> NodeKind<S> {
    fn downcast<'a>(&self, node: &'a dyn UserDefinedLogicalNode) -> Option<&'a OrderedNode<S>> {
        node.as_any().downcast_ref::<OrderedNode<S>>()
    }
}

impl<S: NodeSpec> NodeCodec for NodeKind<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn is(&self, node: &dyn UserDefinedLogicalNode) -> bool {
        self.downcast(node).is_some()
    }

    fn encode(&self, node: &dyn UserDefinedLogicalNode) -> Result<Option<Value>> {
        self.downcast(node).map(|n| to_value(n.spec())).transpose()
    }

    fn decode(
        &self,
        spec: Value,
        inputs: &[LogicalPlan],
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let spec: S = from_value(S::NAME, spec)?;
        Ok(Arc::new(OrderedNode::new(spec, inputs.to_vec())?))
    }

    fn plan(
        &self,
        node: &dyn UserDefinedLogicalNode,
        inputs: &[Arc<dyn ExecutionPlan>],
        functions: &Functions,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        self.downcast(node)
            .map(|n| n.spec().plan(inputs.to_vec(), functions))
            .transpose()
    }
}

/// The [`ExecCodec`] of `OrderedExec<K>` (`ExecKind(PhantomData)`).
pub struct ExecKind<K>(pub PhantomData<fn() -> K>);

impl<K: Kernel> ExecCodec for ExecKind<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn encode(&self, plan: &dyn ExecutionPlan) -> Result<Option<EncodedExec>> {
        let Some(exec) = plan.downcast_ref::<OrderedExec<K>>() else {
            return Ok(None);
        };
        Ok(Some(EncodedExec {
            spec: to_value(exec.spec())?,
            hidden: exec.hides_inputs(),
            inputs: exec.inputs().to_vec(),
        }))
    }

    fn decode(
        &self,
        encoded: EncodedExec,
        functions: &Functions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let EncodedExec {
            spec,
            hidden,
            inputs,
        } = encoded;
        let spec: K::Spec = from_value(K::NAME, spec)?;
        Ok(Arc::new(OrderedExec::<K>::with_functions(
            spec, inputs, hidden, functions,
        )?))
    }

    fn order(&self, plan: &dyn ExecutionPlan) -> Option<Option<Order>> {
        plan.downcast_ref::<OrderedExec<K>>()
            .map(OrderedExec::order)
    }
}
