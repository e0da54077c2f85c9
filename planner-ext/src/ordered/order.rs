//! What order a plan's rows come in when its partitions are read one after another, as far as
//! it can be proven. DataFusion's declared orderings say less: each partition is sorted, and
//! partitions may interleave. ltseq's operators say more ([`Kernel::order`]: the order of
//! their whole output, found through the operator registry), and a host's nodes (seen through
//! the FFI, where their orderings are foreign expressions) are followed by name when they keep
//! each partition's rows in order.
//!
//! An order also knows which columns are copies of one another (a projection that writes a
//! column twice, as the DSL's hidden sort keys do): DataFusion states a sort over one copy, the
//! DSL asks for another.
//!
//! [`Kernel::order`]: super::Kernel::order

use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{LexOrdering, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

/// One key of an order: a column, and its direction and NULL placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub name: String,
    pub options: SortOptions,
}

/// `column` ascending, NULLs last (how ordinals are ordered).
pub fn ascending(column: &str) -> OrderKey {
    OrderKey {
        name: column.to_string(),
        options: SortOptions {
            descending: false,
            nulls_first: false,
        },
    }
}

/// How a plan's partitions relate to its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// All rows are in the first partition, in order (so any merge of the partitions keeps
    /// the order).
    InFirst,
    /// Read one after another (the first partition first), the partitions are in order
    /// (consecutive ranges).
    InOrder,
    /// Each partition is in order, but partitions interleave (they need a merge).
    EachSorted,
}

/// The proven order of a plan's output: sorted by each of `orderings`, in `shape`, with the
/// columns of each class of `copies` equal row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub orderings: Vec<Vec<OrderKey>>,
    pub shape: Shape,
    pub copies: Vec<Vec<String>>,
}

impl Order {
    /// One ordering, in `shape`; `None` without keys.
    pub fn new(keys: Vec<OrderKey>, shape: Shape) -> Option<Self> {
        (!keys.is_empty()).then(|| Self {
            orderings: vec![keys],
            shape,
            copies: vec![],
        })
    }

    fn same_column(&self, a: &str, b: &str) -> bool {
        a == b
            || self
                .copies
                .iter()
                .any(|class| class.iter().any(|c| c == a) && class.iter().any(|c| c == b))
    }

    /// Whether rows in this order are in the order `want` (a prefix of one of the orderings,
    /// a column standing for any of its copies).
    pub fn satisfies(&self, want: &[OrderKey]) -> bool {
        !want.is_empty()
            && self.orderings.iter().any(|keys| {
                want.len() <= keys.len()
                    && want
                        .iter()
                        .zip(keys)
                        .all(|(w, k)| w.options == k.options && self.same_column(&w.name, &k.name))
            })
    }

    /// This order when it is one stream in order.
    pub fn in_order(self) -> Option<Self> {
        (self.shape != Shape::EachSorted).then_some(self)
    }

    /// This order with its rows read in `shape`.
    pub fn shaped(self, shape: Shape) -> Self {
        Self { shape, ..self }
    }

    /// This order for rows of `schema`: each ordering while its columns are there.
    pub fn within(self, schema: &Schema) -> Option<Self> {
        let has = |name: &String| schema.index_of(name).is_ok();
        let orderings: Vec<Vec<OrderKey>> = self
            .orderings
            .into_iter()
            .map(|keys| keys.into_iter().take_while(|k| has(&k.name)).collect())
            .filter(|keys: &Vec<OrderKey>| !keys.is_empty())
            .collect();
        let copies = self
            .copies
            .into_iter()
            .map(|class| class.into_iter().filter(has).collect::<Vec<_>>())
            .filter(|class| class.len() > 1)
            .collect();
        (!orderings.is_empty()).then_some(Self {
            orderings,
            shape: self.shape,
            copies,
        })
    }
}

/// The name of the column `expr` reads in `schema`, when it is a plain column: a local
/// `Column`, or a host's (a foreign expression shown as `name@index`, checked against the
/// schema).
pub fn column_name(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<String> {
    if let Some(c) = expr.downcast_ref::<Column>() {
        let field = schema.fields().get(c.index())?;
        return (field.name() == c.name()).then(|| c.name().to_string());
    }
    let text = expr.to_string();
    let (name, index) = text.rsplit_once('@')?;
    let index: usize = index.parse().ok()?;
    let field = schema.fields().get(index)?;
    (field.name() == name).then(|| name.to_string())
}

/// The keys of an ordering over `schema`, while they are plain columns.
fn keys_of(ordering: &LexOrdering, schema: &Schema) -> Vec<OrderKey> {
    ordering
        .iter()
        .map_while(|e| {
            column_name(&e.expr, schema).map(|name| OrderKey {
                name,
                options: e.options,
            })
        })
        .collect()
}

/// The ordering `keys` as local columns of `schema` (the keys it has, while it has them).
pub fn ordering(keys: &[OrderKey], schema: &Schema) -> Option<LexOrdering> {
    let sort = keys
        .iter()
        .map_while(|k| {
            let index = schema.index_of(&k.name).ok()?;
            let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(&k.name, index));
            Some(PhysicalSortExpr::new(column, k.options))
        })
        .collect::<Vec<_>>();
    LexOrdering::new(sort)
}

/// Host nodes that pass each partition's rows through in order, with their columns.
const PASS_THROUGH: &[&str] = &[
    "FilterExec",
    "CoalesceBatchesExec",
    "CooperativeExec",
    "LocalLimitExec",
    "BoundedWindowAggExec",
    "WindowAggExec",
];

fn only_child(plan: &Arc<dyn ExecutionPlan>) -> Option<&Arc<dyn ExecutionPlan>> {
    match plan.children()[..] {
        [child] => Some(child),
        _ => None,
    }
}

/// The order of `plan`'s output, when it can be proven.
pub fn order_of(plan: &Arc<dyn ExecutionPlan>) -> Option<Order> {
    let order = proven(plan)?;
    let one = plan.output_partitioning().partition_count() == 1;
    Some(if one && order.shape == Shape::InOrder {
        order.shaped(Shape::InFirst)
    } else {
        order
    })
}

fn proven(plan: &Arc<dyn ExecutionPlan>) -> Option<Order> {
    let name = plan.name();
    if name.starts_with("Ltseq") {
        return crate::OPERATORS
            .iter()
            .flat_map(|op| op.execs.iter())
            .find_map(|kind| kind.order(plan.as_ref()))
            .flatten();
    }
    let partitions = plan.output_partitioning().partition_count();
    if name == "DataSourceExec" || name.starts_with(super::hidden::HIDDEN_PLAN) {
        // a source's declared order (a file table's `WITH ORDER`, a memory table's sort
        // order), or a hidden plan's: each partition in it
        let keys = keys_of(plan.output_ordering()?, &plan.schema());
        let shape = if partitions == 1 {
            Shape::InFirst
        } else {
            Shape::EachSorted
        };
        return Order::new(keys, shape);
    }
    let child = only_child(plan)?;
    let child_partitions = child.output_partitioning().partition_count();
    match name {
        "SortExec" | "SortPreservingMergeExec" => {
            let keys = keys_of(plan.output_ordering()?, &plan.schema());
            let shape = if partitions == 1 {
                Shape::InFirst
            } else {
                Shape::EachSorted
            };
            let mut order = Order::new(keys, shape)?;
            order.copies = copies(child);
            Some(order)
        }
        _ if PASS_THROUGH.contains(&name) => order_of(child),
        "GlobalLimitExec" => order_of(child)?.in_order(),
        // Merging rows that are all in one partition keeps their order; splitting them keeps
        // each output partition in order. Rows of several partitions interleave.
        "CoalescePartitionsExec" => {
            let order = order_of(child)?;
            (child_partitions == 1 || order.shape == Shape::InFirst).then_some(order)
        }
        "RepartitionExec" => {
            let order = order_of(child)?;
            if child_partitions > 1 && order.shape != Shape::InFirst {
                return None;
            }
            Some(if partitions == 1 {
                order
            } else {
                order.shaped(Shape::EachSorted)
            })
        }
        "ProjectionExec" => {
            let order = order_of(child)?;
            let copied = projection(plan, child)?;
            let order = projected(order, &copied);
            (!order.orderings.is_empty()).then_some(order)
        }
        _ => None,
    }
}

/// The classes of columns of `plan` known to be copies of one another.
fn copies(plan: &Arc<dyn ExecutionPlan>) -> Vec<Vec<String>> {
    let name = plan.name();
    if name.starts_with("Ltseq") {
        return order_of(plan).map(|o| o.copies).unwrap_or_default();
    }
    let Some(child) = only_child(plan) else {
        return vec![];
    };
    let pass = PASS_THROUGH.contains(&name)
        || matches!(
            name,
            "SortExec"
                | "SortPreservingMergeExec"
                | "GlobalLimitExec"
                | "CoalescePartitionsExec"
                | "RepartitionExec"
        );
    if pass {
        return copies(child);
    }
    if name == "ProjectionExec" {
        if let Some(copied) = projection(plan, child) {
            let inner = Order {
                orderings: vec![],
                shape: Shape::InOrder,
                copies: copies(child),
            };
            return projected(inner, &copied).copies;
        }
    }
    vec![]
}

/// The projection `plan` over `child` as (input column, output column) pairs, for the output
/// columns that copy an input column.
fn projection(
    plan: &Arc<dyn ExecutionPlan>,
    child: &Arc<dyn ExecutionPlan>,
) -> Option<Vec<(String, String)>> {
    let mut exprs: Vec<Arc<dyn PhysicalExpr>> = Vec::new();
    plan.apply_expressions(&mut |e| {
        exprs.push(Arc::clone(e));
        Ok(TreeNodeRecursion::Continue)
    })
    .ok()?;
    let out = plan.schema();
    if exprs.len() != out.fields().len() {
        return None;
    }
    let input = child.schema();
    Some(
        exprs
            .iter()
            .zip(out.fields())
            .filter_map(|(e, f)| column_name(e, &input).map(|source| (source, f.name().clone())))
            .collect(),
    )
}

/// `order` after a projection that copies columns as `copied` (input, output): each ordering
/// while its keys are copied (by any copy of the key), and the classes of output copies.
fn projected(order: Order, copied: &[(String, String)]) -> Order {
    // Output columns copying input `name` or any input copy of it.
    let outputs = |name: &str| -> Vec<String> {
        copied
            .iter()
            .filter(|(source, _)| order.same_column(source, name))
            .map(|(_, out)| out.clone())
            .collect()
    };
    let orderings = order
        .orderings
        .iter()
        .map(|keys| {
            keys.iter()
                .map_while(|k| {
                    outputs(&k.name).into_iter().next().map(|name| OrderKey {
                        name,
                        options: k.options,
                    })
                })
                .collect::<Vec<_>>()
        })
        .filter(|keys| !keys.is_empty())
        .collect();
    let mut classes: Vec<Vec<String>> = Vec::new();
    for (source, _) in copied {
        let class = outputs(source);
        if class.len() > 1 && !classes.iter().any(|c| c.contains(&class[0])) {
            classes.push(class);
        }
    }
    Order {
        orderings,
        shape: order.shape,
        copies: classes,
    }
}
