//! Planning ltseq's extension nodes: the [`LtseqExtensionPlanner`] for DataFusion's physical
//! planner, and the [`LtseqQueryPlanner`] that a session (Rust, or a stock Python context
//! through the FFI) installs.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{default_table_source::source_as_provider, Session};
use datafusion::common::config::{ConfigOptions, TableOptions};
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::execution_props::ExecutionProps;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::registry::ExtensionTypeRegistryRef;
use datafusion::logical_expr::{
    AggregateUDF, Expr, LogicalPlan, ScalarUDF, UserDefinedLogicalNode, WindowUDF,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion::prelude::SessionConfig;

use crate::ordered::guard::no_panic_async;
use crate::ordered::Functions;
use crate::OPERATORS;

/// Plans ltseq's logical nodes into ltseq's physical operators.
#[derive(Debug, Default)]
pub struct LtseqExtensionPlanner;

#[async_trait]
impl ExtensionPlanner for LtseqExtensionPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let functions = Functions::of_session(session);
        for kind in OPERATORS.iter().flat_map(|o| o.nodes.iter()) {
            if let Some(plan) = kind.plan(node, physical_inputs, &functions)? {
                return Ok(Some(plan));
            }
        }
        Ok(None)
    }
}

/// Replaces every scan of an ltseq operator's table by the operator's logical node (each
/// operator decides, see `Operator::rewrite_scan`), looking its inputs up in `session`.
pub fn rewrite_ltseq_scans(
    plan: LogicalPlan,
    session: &dyn Session,
) -> Result<Transformed<LogicalPlan>> {
    plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::TableScan(scan) = &node else {
            return Ok(Transformed::no(node));
        };
        let Ok(provider) = source_as_provider(&scan.source) else {
            return Ok(Transformed::no(node));
        };
        for rewrite in OPERATORS.iter().filter_map(|o| o.rewrite_scan) {
            if let Some(plan) = rewrite(scan, provider.as_ref(), session)? {
                return Ok(Transformed::yes(plan));
            }
        }
        Ok(Transformed::no(node))
    })
}

/// Whether the plan holds a node ltseq must plan.
fn has_ltseq_nodes(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Extension(ext) = node {
            let ours = OPERATORS
                .iter()
                .flat_map(|o| o.nodes.iter())
                .any(|kind| kind.is(ext.node.as_ref()));
            if ours {
                found = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// ltseq's query planner.
///
/// Plans without ltseq nodes go to `fallback` (the host's own planner when installed into a
/// stock Python context; DataFusion's default planner when `None`). Plans with ltseq nodes
/// (or `ltseq_sequence` scans, which it rewrites into nodes first) are planned here by
/// DataFusion's physical planner with [`LtseqExtensionPlanner`] and DataFusion's own physical
/// optimizer rules, the host's table providers still scanning their own tables.
#[derive(Debug)]
pub struct LtseqQueryPlanner {
    fallback: Option<Arc<dyn QueryPlanner + Send + Sync>>,
}

impl LtseqQueryPlanner {
    pub fn new(fallback: Option<Arc<dyn QueryPlanner + Send + Sync>>) -> Self {
        Self { fallback }
    }
}

#[async_trait]
impl QueryPlanner for LtseqQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let fut = async {
            let rewritten = rewrite_ltseq_scans(logical_plan.clone(), session)?;
            let needs_ltseq = rewritten.transformed || has_ltseq_nodes(&rewritten.data);
            match (&self.fallback, needs_ltseq) {
                (Some(fallback), false) => {
                    fallback.create_physical_plan(logical_plan, session).await
                }
                (None, _) => {
                    let planner = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(
                        LtseqExtensionPlanner,
                    )]);
                    planner.create_physical_plan(&rewritten.data, session).await
                }
                (Some(_), true) => {
                    // In a foreign host the session's optimizer rules are the host's, reached
                    // through the FFI: they would see ltseq's plan only as opaque nodes. Plan
                    // with DataFusion's own rules, linked here.
                    let local = LocalRules::new(session);
                    let planner = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(
                        LtseqExtensionPlanner,
                    )]);
                    planner.create_physical_plan(&rewritten.data, &local).await
                }
            }
        };
        no_panic_async("ltseq query planner", fut).await
    }
}

/// A session that answers like `inner` but with DataFusion's default physical optimizer rules.
struct LocalRules<'a> {
    inner: &'a dyn Session,
    rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
    table_options: TableOptions,
}

impl<'a> LocalRules<'a> {
    fn new(inner: &'a dyn Session) -> Self {
        Self {
            inner,
            rules: PhysicalOptimizer::new().rules,
            table_options: inner.table_options().clone(),
        }
    }
}

#[async_trait]
impl Session for LocalRules<'_> {
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
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let planner =
            DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(LtseqExtensionPlanner)]);
        planner.create_physical_plan(logical_plan, self).await
    }
    fn create_physical_expr(
        &self,
        expr: Expr,
        df_schema: &DFSchema,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.create_physical_expr(expr, df_schema)
    }
    fn scalar_functions(&self) -> &HashMap<String, Arc<ScalarUDF>> {
        self.inner.scalar_functions()
    }
    fn higher_order_functions(
        &self,
    ) -> &HashMap<String, Arc<datafusion::logical_expr::HigherOrderUDF>> {
        self.inner.higher_order_functions()
    }
    fn aggregate_functions(&self) -> &HashMap<String, Arc<AggregateUDF>> {
        self.inner.aggregate_functions()
    }
    fn window_functions(&self) -> &HashMap<String, Arc<WindowUDF>> {
        self.inner.window_functions()
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
        // `SessionState`, and nothing needs to downcast it.
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
        self.inner.task_ctx()
    }
}
