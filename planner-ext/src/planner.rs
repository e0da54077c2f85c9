//! Planning ltseq's extension nodes: the [`LtseqExtensionPlanner`] for DataFusion's physical
//! planner, and the [`LtseqQueryPlanner`] that a session (Rust, or a stock Python context
//! through the FFI) installs.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{default_table_source::source_as_provider, Session};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use crate::host::HostSession;
use crate::ordered::guard::{no_panic, no_panic_async};
use crate::ordered::hidden::HiddenPlanExec;
use crate::ordered::memory::{session_memory_limit, SessionMemoryExec};
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

/// ltseq's query planner.
///
/// Every plan is planned here by DataFusion's physical planner with [`LtseqExtensionPlanner`]
/// (scans of `ltseq_sequence` tables are rewritten into nodes first). In a Rust session it
/// uses the session's own optimizer rules ([`LtseqQueryPlanner::new`]). Installed into a
/// foreign host (a stock Python context, [`LtseqQueryPlanner::in_foreign_host`]) it uses
/// DataFusion's rules and built-in functions linked here ([`HostSession`]); the host's
/// table providers still scan their own tables.
#[derive(Debug)]
pub struct LtseqQueryPlanner {
    foreign_host: bool,
}

impl LtseqQueryPlanner {
    /// The planner of a Rust session.
    pub fn new() -> Self {
        Self {
            foreign_host: false,
        }
    }

    /// The planner of a session owned by another library, reached through the FFI.
    pub fn in_foreign_host() -> Self {
        Self { foreign_host: true }
    }
}

impl Default for LtseqQueryPlanner {
    fn default() -> Self {
        Self::new()
    }
}

/// ltseq's physical optimizer rule, after DataFusion's: every operator's plan rewrite (SQL
/// windows onto the Window operator). In the sessions ltseq's planner plans
/// ([`crate::session_context_with_ltseq`], a foreign host's `HostSession`).
#[derive(Debug, Default)]
pub struct LtseqPhysicalRule;

impl PhysicalOptimizerRule for LtseqPhysicalRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        no_panic("ltseq physical rule", || {
            OPERATORS
                .iter()
                .filter_map(|o| o.rewrite_plan)
                .try_fold(plan, |plan, rewrite| rewrite(plan))
        })
    }

    fn name(&self) -> &str {
        "ltseq_operators"
    }

    fn schema_check(&self) -> bool {
        true
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
            let planner = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(
                LtseqExtensionPlanner,
            )]);
            if !self.foreign_host {
                return planner.create_physical_plan(&rewritten.data, session).await;
            }
            // In a foreign host every plan is planned here, with DataFusion's own optimizer
            // rules and built-in functions ([`HostSession`]), also one without ltseq
            // nodes: handed back to the host's planner, it would be planned against ltseq's
            // view of the host's session, reaching the host's own functions and tables through
            // the FFI twice (30x slower on a plain aggregate, and `lead(v, 2)` fails).
            let host = HostSession::new(session);
            let plan = host.native_calls(rewritten.data)?;
            let plan = planner.create_physical_plan(&plan, &host).await?;
            // the host's pool does not cross the FFI: the session's limit, if ltseq knows one
            let plan = match session_memory_limit(session.session_id()) {
                Some(_) => Arc::new(SessionMemoryExec::new(plan)) as Arc<dyn ExecutionPlan>,
                None => plan,
            };
            // handed to the host as it is (see `HiddenPlanExec`)
            Ok(Arc::new(HiddenPlanExec::new(plan)) as Arc<dyn ExecutionPlan>)
        };
        no_panic_async("ltseq query planner", fut).await
    }
}
