//! The host's session as ltseq plans in it, when installed into a session owned by another
//! library (a stock Python `datafusion.SessionContext`, through the FFI).
//!
//! Across the FFI every function of the host is a foreign wrapper, and the wrappers carry
//! less than the functions: a window function's evaluator gets foreign physical expressions
//! (so `lead(v, 2)` or `ntile(4)`, which read a literal argument, fail with "only support
//! Literal types"), and a scalar function's `simplify` is not forwarded (so `coalesce`, which
//! must be simplified into `CASE`, fails). ltseq therefore plans in the host's session with
//! DataFusion's own built-in functions, the same code linked here, keeping the host's tables,
//! configuration and its other functions (user functions, ltseq's own), and with DataFusion's
//! default analyzer, optimizer and physical optimizer rules (the host's would see ltseq's
//! operators only as opaque nodes through the FFI).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::config::{ConfigOptions, TableOptions};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::execution_props::ExecutionProps;
use datafusion::logical_expr::expr::{AggregateFunction, ScalarFunction, WindowFunction};
use datafusion::logical_expr::registry::ExtensionTypeRegistryRef;
use datafusion::logical_expr::{
    AggregateUDF, Expr, LogicalPlan, ScalarUDF, WindowFunctionDefinition, WindowUDF,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionConfig;

use crate::planner::LtseqExtensionPlanner;

/// A session with DataFusion's default functions and rules: the source of the built-ins.
fn builtins() -> &'static SessionState {
    static STATE: OnceLock<SessionState> = OnceLock::new();
    STATE.get_or_init(|| SessionStateBuilder::new().with_default_features().build())
}

/// DataFusion's ordered-set aggregate `name` (`percentile_cont`, ...), as linked here.
pub(crate) fn builtin_ordered_set_aggregate(name: &str) -> Option<Arc<AggregateUDF>> {
    builtins()
        .aggregate_functions()
        .get(name)
        .filter(|f| f.supports_within_group_clause())
        .cloned()
}

/// `host`'s functions with every DataFusion built-in (by name and alias) replaced by the one
/// linked here.
fn with_builtins<F>(
    host: &HashMap<String, Arc<F>>,
    native: &HashMap<String, Arc<F>>,
) -> HashMap<String, Arc<F>> {
    let mut out = host.clone();
    for (name, f) in native {
        out.insert(name.clone(), Arc::clone(f));
    }
    out
}

/// The host's session with DataFusion's built-in functions and rules linked here.
pub(crate) struct HostSession<'a> {
    inner: &'a dyn Session,
    rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
    table_options: TableOptions,
    scalars: HashMap<String, Arc<ScalarUDF>>,
    aggregates: HashMap<String, Arc<AggregateUDF>>,
    windows: HashMap<String, Arc<WindowUDF>>,
}

impl<'a> HostSession<'a> {
    pub(crate) fn new(inner: &'a dyn Session) -> Self {
        let native = builtins();
        Self {
            inner,
            rules: {
                let mut rules = PhysicalOptimizer::new().rules;
                rules.push(Arc::new(crate::planner::LtseqPhysicalRule));
                rules
            },
            table_options: inner.table_options().clone(),
            scalars: with_builtins(inner.scalar_functions(), native.scalar_functions()),
            aggregates: with_builtins(inner.aggregate_functions(), native.aggregate_functions()),
            windows: with_builtins(inner.window_functions(), native.window_functions()),
        }
    }

    /// `plan` with every call of a DataFusion built-in function bound to the one linked here.
    pub(crate) fn native_calls(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let native = builtins();
        let scalar = |f: &Arc<ScalarUDF>| native.scalar_functions().get(f.name()).cloned();
        let aggregate = |f: &Arc<AggregateUDF>| native.aggregate_functions().get(f.name()).cloned();
        let window = |f: &Arc<WindowUDF>| native.window_functions().get(f.name()).cloned();
        let rebind = |e: Expr| -> Result<Transformed<Expr>> {
            Ok(match e {
                Expr::ScalarFunction(call) => match scalar(&call.func) {
                    Some(func) if !Arc::ptr_eq(&func, &call.func) => {
                        Transformed::yes(Expr::ScalarFunction(ScalarFunction {
                            func,
                            args: call.args,
                        }))
                    }
                    _ => Transformed::no(Expr::ScalarFunction(call)),
                },
                Expr::AggregateFunction(call) => match aggregate(&call.func) {
                    Some(func) if !Arc::ptr_eq(&func, &call.func) => {
                        Transformed::yes(Expr::AggregateFunction(AggregateFunction {
                            func,
                            params: call.params,
                        }))
                    }
                    _ => Transformed::no(Expr::AggregateFunction(call)),
                },
                Expr::WindowFunction(call) => {
                    let fun = match &call.fun {
                        WindowFunctionDefinition::WindowUDF(f) => window(f)
                            .filter(|n| !Arc::ptr_eq(n, f))
                            .map(WindowFunctionDefinition::WindowUDF),
                        WindowFunctionDefinition::AggregateUDF(f) => aggregate(f)
                            .filter(|n| !Arc::ptr_eq(n, f))
                            .map(WindowFunctionDefinition::AggregateUDF),
                    };
                    match fun {
                        Some(fun) => {
                            let WindowFunction { params, .. } = *call;
                            Transformed::yes(Expr::WindowFunction(Box::new(WindowFunction {
                                fun,
                                params,
                            })))
                        }
                        None => Transformed::no(Expr::WindowFunction(call)),
                    }
                }
                e => Transformed::no(e),
            })
        };
        plan.transform_up_with_subqueries(|node| node.map_expressions(|e| e.transform_up(rebind)))
            .map(|t| t.data)
    }
}

#[async_trait]
impl Session for HostSession<'_> {
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }
    fn config(&self) -> &SessionConfig {
        self.inner.config()
    }
    fn catalog_list(&self) -> Arc<dyn datafusion::catalog::CatalogProviderList> {
        self.inner.catalog_list()
    }
    fn config_options(&self) -> &ConfigOptions {
        self.inner.config_options()
    }
    fn physical_optimizers(&self) -> &[Arc<dyn PhysicalOptimizerRule + Send + Sync>] {
        &self.rules
    }
    /// Plans a query the host hands back while ltseq plans (a view an operator reads): like a
    /// `SessionState`, it analyzes (type coercion) and optimizes it first, with DataFusion's
    /// default rules.
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rules = SessionStateBuilder::new()
            .with_config(self.config().clone())
            .with_runtime_env(Arc::clone(self.runtime_env()))
            .with_default_features()
            .build();
        let plan = rules.optimize(&self.native_calls(logical_plan.clone())?)?;
        let planner =
            DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(LtseqExtensionPlanner)]);
        planner.create_physical_plan(&plan, self).await
    }
    fn create_physical_expr(
        &self,
        expr: Expr,
        df_schema: &DFSchema,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.create_physical_expr(expr, df_schema)
    }
    fn scalar_functions(&self) -> &HashMap<String, Arc<ScalarUDF>> {
        &self.scalars
    }
    fn higher_order_functions(
        &self,
    ) -> &HashMap<String, Arc<datafusion::logical_expr::HigherOrderUDF>> {
        self.inner.higher_order_functions()
    }
    fn aggregate_functions(&self) -> &HashMap<String, Arc<AggregateUDF>> {
        &self.aggregates
    }
    fn window_functions(&self) -> &HashMap<String, Arc<WindowUDF>> {
        &self.windows
    }
    fn extension_type_registry(&self) -> &ExtensionTypeRegistryRef {
        self.inner.extension_type_registry()
    }
    fn runtime_env(&self) -> &Arc<RuntimeEnv> {
        self.inner.runtime_env()
    }
    fn execution_props(&self) -> &ExecutionProps {
        self.inner.execution_props()
    }
    fn as_any(&self) -> &dyn Any {
        // Borrowing the host's session, this wrapper cannot be `'static`; it is not a
        // `SessionState`, and nothing needs to downcast it. (It must not pass for the host's
        // own session either: the host would then plan the views ltseq's operators read with
        // ltseq's providers inside, executing ltseq-planned parts on threads of its runtime.)
        static NOT_A_SESSION_STATE: () = ();
        &NOT_A_SESSION_STATE
    }
    fn table_options(&self) -> &TableOptions {
        &self.table_options
    }
    fn table_options_mut(&mut self) -> &mut TableOptions {
        &mut self.table_options
    }
    fn task_ctx(&self) -> Arc<TaskContext> {
        let host = self.inner.task_ctx();
        Arc::new(TaskContext::new(
            host.task_id(),
            host.session_id(),
            host.session_config().clone(),
            self.scalars.clone(),
            host.higher_order_functions().clone(),
            self.aggregates.clone(),
            self.windows.clone(),
            host.runtime_env(),
        ))
    }
}
