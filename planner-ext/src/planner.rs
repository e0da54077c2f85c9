//! Planning ltseq's extension nodes: the [`LtseqExtensionPlanner`] for DataFusion's physical
//! planner, and the [`LtseqQueryPlanner`] that a session (Rust, or a stock Python context
//! through the FFI) installs.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{
    default_table_source::{provider_as_source, source_as_provider},
    Session,
};
use datafusion::common::config::{ConfigOptions, TableOptions};
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::execution_props::ExecutionProps;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::registry::ExtensionTypeRegistryRef;
use datafusion::logical_expr::{
    AggregateUDF, Expr, Extension, LogicalPlan, LogicalPlanBuilder, ScalarUDF, TableScan,
    UserDefinedLogicalNode, WindowUDF,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion::prelude::SessionConfig;

use crate::group_node::{GroupOrderedNode, GroupOrderedSpec};
use crate::group_ordered::GroupOrderedTableProvider;
use crate::group_sql::GroupOrderedSqlTable;
use crate::guard::panic_message;
use crate::link::{LinkExec, LinkNode, LinkTableProvider};
use crate::scan::lookup_table;
use crate::scan::SequenceTableProvider;
use crate::sequence::{SequenceExec, SequenceNode};

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
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        if let Some(seq) = node.as_any().downcast_ref::<SequenceNode>() {
            let [input] = physical_inputs else {
                return Err(DataFusionError::Internal(
                    "LtseqSequence takes one input".into(),
                ));
            };
            return Ok(Some(Arc::new(SequenceExec::try_new(
                Arc::clone(input),
                seq.ordinal(),
                false,
            )?)));
        }
        if let Some(group) = node.as_any().downcast_ref::<GroupOrderedNode>() {
            let [input] = physical_inputs else {
                return Err(DataFusionError::Internal(
                    "LtseqGroupOrdered takes one input".into(),
                ));
            };
            return Ok(Some(Arc::new(group.spec().plan(Arc::clone(input))?)));
        }
        if let Some(link) = node.as_any().downcast_ref::<LinkNode>() {
            let [source, target] = physical_inputs else {
                return Err(DataFusionError::Internal(
                    "LtseqLink takes two inputs".into(),
                ));
            };
            return Ok(Some(Arc::new(LinkExec::try_new(
                Arc::clone(source),
                Arc::clone(target),
                link.spec().clone(),
                false,
            )?)));
        }
        Ok(None)
    }
}

/// Replaces every scan of an `ltseq_sequence(...)` table function by the `LtseqSequence`
/// node over a scan of its input (looked up in `session`), keeping the scan's name,
/// projection, filters and limit.
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
        let any: &dyn Any = provider.as_ref();
        if let Some(link) = any.downcast_ref::<LinkTableProvider>() {
            return Ok(Transformed::yes(link_scan_to_node(scan, link, session)?));
        }
        if let Some(group) = any.downcast_ref::<GroupOrderedTableProvider>() {
            // Stored order only: a view's ORDER BY is not a requirement the node can state.
            let Some(spec) = group.node_spec() else {
                return Ok(Transformed::no(node));
            };
            let input = lookup_table(session, group.input_name(), "LtseqGroupOrdered")?;
            if input.table_type() == datafusion::datasource::TableType::View {
                // A view's plan would be planned here without the host's analyzer: keep the
                // provider route (the host plans the view).
                return Ok(Transformed::no(node));
            }
            if input.schema().fields() != group.input_schema().fields() {
                return Err(DataFusionError::Plan(format!(
                    "LtseqGroupOrdered: table '{}' changed its schema since the query was planned",
                    group.input_name()
                )));
            }
            let names = field_names(&provider.schema());
            let plan = group_scan_to_node(scan, spec, group.input_name(), input, &names)?;
            return Ok(Transformed::yes(plan));
        }
        if let Some(group) = any.downcast_ref::<GroupOrderedSqlTable>() {
            let input = lookup_table(session, group.input_name(), "LtseqGroupOrdered")?;
            let names = field_names(&provider.schema());
            let plan =
                group_scan_to_node(scan, group.node_spec(), group.input_name(), input, &names)?;
            return Ok(Transformed::yes(plan));
        }
        let Some(seq) = any.downcast_ref::<SequenceTableProvider>() else {
            return Ok(Transformed::no(node));
        };
        Ok(Transformed::yes(sequence_scan_to_node(scan, seq, session)?))
    })
}

/// A scan of a `LinkTableProvider` as the `LtseqLink` node over scans of the source (the
/// columns the query reads, and the keys) and the target (the keys and the fetched columns).
fn link_scan_to_node(
    scan: &TableScan,
    link: &LinkTableProvider,
    session: &dyn Session,
) -> Result<LogicalPlan> {
    let names = link.column_names();
    let wanted: Vec<usize> = match &scan.projection {
        Some(p) => p.clone(),
        None => (0..names.len()).collect(),
    };
    let (source_cols, target_cols, spec) = link.plan_projection(&wanted)?;
    let source = LogicalPlanBuilder::scan(
        link.source_name(),
        provider_as_source(link.resolve(session, false)?),
        Some(source_cols),
    )?
    .build()?;
    let target = LogicalPlanBuilder::scan(
        link.target_name(),
        provider_as_source(link.resolve(session, true)?),
        Some(target_cols),
    )?
    .build()?;
    let node = LinkNode::try_new(source, target, spec)?;
    let builder = LogicalPlanBuilder::from(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
    .alias(scan.table_name.clone())?;
    finish_scan(builder, scan, &names, &wanted)
}

fn field_names(schema: &datafusion::arrow::datatypes::SchemaRef) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// A scan of a GroupOrdered table as the `LtseqGroupOrdered` node over a scan of its input
/// (the columns the node reads).
fn group_scan_to_node(
    scan: &TableScan,
    spec: GroupOrderedSpec,
    input_name: &str,
    input: Arc<dyn datafusion::catalog::TableProvider>,
    names: &[String],
) -> Result<LogicalPlan> {
    let input_schema = input.schema();
    let mut columns = spec
        .columns(&input_schema)?
        .iter()
        .map(|n| Ok(input_schema.index_of(n)?))
        .collect::<Result<Vec<usize>>>()?;
    columns.sort_unstable();
    let input_scan =
        LogicalPlanBuilder::scan(input_name, provider_as_source(input), Some(columns))?.build()?;
    let node = GroupOrderedNode::try_new(input_scan, spec)?;
    let wanted: Vec<usize> = match &scan.projection {
        Some(p) => p.clone(),
        None => (0..names.len()).collect(),
    };
    let builder = LogicalPlanBuilder::from(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
    .alias(scan.table_name.clone())?;
    finish_scan(builder, scan, names, &wanted)
}

/// Above a rewritten scan: the scan's projection (by name), its filters and its limit.
fn finish_scan(
    builder: LogicalPlanBuilder,
    scan: &TableScan,
    names: &[String],
    wanted: &[usize],
) -> Result<LogicalPlan> {
    let columns: Vec<Expr> = wanted
        .iter()
        .map(|&i| Expr::Column(Column::new(Some(scan.table_name.clone()), &names[i])))
        .collect();
    let mut builder = builder.project(columns)?;
    if !scan.filters.is_empty() {
        let predicate = scan
            .filters
            .iter()
            .cloned()
            .reduce(|a, b| a.and(b))
            .ok_or_else(|| DataFusionError::Internal("empty filter list".into()))?;
        builder = builder.filter(predicate)?;
    }
    if let Some(fetch) = scan.fetch {
        builder = builder.limit(0, Some(fetch))?;
    }
    builder.build()
}

fn sequence_scan_to_node(
    scan: &TableScan,
    seq: &SequenceTableProvider,
    session: &dyn Session,
) -> Result<LogicalPlan> {
    let n_input = seq.input_schema().fields().len();
    let wanted: Vec<usize> = match &scan.projection {
        Some(p) => p.clone(),
        None => (0..=n_input).collect(),
    };
    let mut input_columns: Vec<usize> = wanted.iter().copied().filter(|&i| i < n_input).collect();
    input_columns.sort_unstable();
    input_columns.dedup();
    let input_scan = LogicalPlanBuilder::scan(
        seq.input_name(),
        provider_as_source(seq.resolve_input(session)?),
        Some(input_columns),
    )?
    .build()?;
    let node = SequenceNode::try_new(input_scan, seq.ordinal())?;
    let full_schema = seq_schema_names(seq);
    let builder = LogicalPlanBuilder::from(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    }))
    .alias(scan.table_name.clone())?;
    finish_scan(builder, scan, &full_schema, &wanted)
}

fn seq_schema_names(seq: &SequenceTableProvider) -> Vec<String> {
    let mut names: Vec<String> = seq
        .input_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    names.push(seq.ordinal().to_string());
    names
}

/// Whether the plan holds a node ltseq must plan.
fn has_ltseq_nodes(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Extension(ext) = node {
            let any = ext.node.as_any();
            if any.downcast_ref::<SequenceNode>().is_some()
                || any.downcast_ref::<LinkNode>().is_some()
                || any.downcast_ref::<GroupOrderedNode>().is_some()
            {
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
        use futures::FutureExt;
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
        match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(DataFusionError::Execution(format!(
                "internal error in ltseq query planner: {}",
                panic_message(payload)
            ))),
        }
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
