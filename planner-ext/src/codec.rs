//! Logical and physical extension codecs for ltseq's nodes.
//!
//! Payloads are small JSON documents tagged with the node kind. What DataFusion cannot write by
//! value (a host's in-memory table in a logical plan, or a host's scan, reached through the FFI,
//! inside a physical plan ltseq planned) travels as an *in-process handle*: the codec keeps the
//! object in a registry and writes its id; the decoder takes it out. Plans holding handles
//! decode once, in the process that encoded them, which is all the FFI boundary between a host
//! and ltseq's query planner needs; shipping them to another process (a distributed engine)
//! would need those inputs encoded by value instead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::{DefaultLogicalExtensionCodec, LogicalExtensionCodec};
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};

use crate::group_node::{GroupOrderedNode, GroupOrderedSpec};
use crate::group_ordered::GroupOrderedExec;
use crate::guard::no_panic;
use crate::link::{LinkExec, LinkNode, LinkSpec};
use crate::scan::SequenceTableProvider;
use crate::sequence::{SequenceExec, SequenceNode};

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum LogicalPayload {
    Sequence { ordinal: String },
    Link { spec: LinkSpec },
    GroupOrdered { spec: GroupOrderedSpec },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ProviderPayload {
    Sequence {
        input: String,
        ordinal: String,
    },
    /// Any other table (for example a host's in-memory table), as an in-process handle.
    Handle {
        handle: u64,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum PhysicalPayload {
    Sequence {
        ordinal: String,
        hidden_input: Option<u64>,
    },
    Link {
        spec: LinkSpec,
        /// With hidden inputs: the source and target plans, as in-process handles.
        hidden_inputs: Option<(u64, u64)>,
    },
    /// With a visible input (with a hidden one, it is an opaque handle).
    GroupOrdered {
        spec: GroupOrderedSpec,
    },
    Opaque {
        handle: u64,
    },
}

fn to_json<T: Serialize>(value: &T, buf: &mut Vec<u8>) -> Result<()> {
    serde_json::to_writer(buf, value)
        .map_err(|e| DataFusionError::Internal(format!("ltseq codec: {e}")))
}

fn from_json<'a, T: Deserialize<'a>>(buf: &'a [u8]) -> Result<T> {
    serde_json::from_slice(buf)
        .map_err(|e| DataFusionError::Internal(format!("ltseq codec: not an ltseq payload: {e}")))
}

static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// Tables are handed over once, like plans.
fn tables() -> &'static Mutex<HashMap<u64, Arc<dyn TableProvider>>> {
    static REGISTRY: std::sync::OnceLock<Mutex<HashMap<u64, Arc<dyn TableProvider>>>> =
        std::sync::OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Plans are handed over once: the decoder takes them out of the registry.
fn plans() -> &'static Mutex<HashMap<u64, Arc<dyn ExecutionPlan>>> {
    static REGISTRY: std::sync::OnceLock<Mutex<HashMap<u64, Arc<dyn ExecutionPlan>>>> =
        std::sync::OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn stash_plan(plan: Arc<dyn ExecutionPlan>) -> u64 {
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    lock(plans()).insert(id, plan);
    id
}

fn take_plan(id: u64) -> Result<Arc<dyn ExecutionPlan>> {
    lock(plans()).remove(&id).ok_or_else(|| {
        DataFusionError::Internal(format!(
            "ltseq codec: plan handle {id} is unknown (plans with ltseq handles decode once, in the process that encoded them)"
        ))
    })
}

/// Logical codec: the `LtseqSequence` node and `ltseq_sequence` table scans.
#[derive(Debug, Default)]
pub struct LtseqLogicalCodec;

impl LogicalExtensionCodec for LtseqLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        _ctx: &TaskContext,
    ) -> Result<Extension> {
        no_panic("ltseq logical codec", || {
            match from_json::<LogicalPayload>(buf)? {
                LogicalPayload::Sequence { ordinal } => {
                    let [input] = inputs else {
                        return Err(DataFusionError::Internal(
                            "LtseqSequence takes one input".into(),
                        ));
                    };
                    Ok(Extension {
                        node: Arc::new(SequenceNode::try_new(input.clone(), ordinal)?),
                    })
                }
                LogicalPayload::GroupOrdered { spec } => {
                    let [input] = inputs else {
                        return Err(DataFusionError::Internal(
                            "LtseqGroupOrdered takes one input".into(),
                        ));
                    };
                    Ok(Extension {
                        node: Arc::new(GroupOrderedNode::try_new(input.clone(), spec)?),
                    })
                }
                LogicalPayload::Link { spec } => {
                    let [source, target] = inputs else {
                        return Err(DataFusionError::Internal(
                            "LtseqLink takes two inputs".into(),
                        ));
                    };
                    Ok(Extension {
                        node: Arc::new(LinkNode::try_new(source.clone(), target.clone(), spec)?),
                    })
                }
            }
        })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        no_panic("ltseq logical codec", || {
            if let Some(seq) = node.node.as_any().downcast_ref::<SequenceNode>() {
                return to_json(
                    &LogicalPayload::Sequence {
                        ordinal: seq.ordinal().to_string(),
                    },
                    buf,
                );
            }
            if let Some(group) = node.node.as_any().downcast_ref::<GroupOrderedNode>() {
                return to_json(
                    &LogicalPayload::GroupOrdered {
                        spec: group.spec().clone(),
                    },
                    buf,
                );
            }
            if let Some(link) = node.node.as_any().downcast_ref::<LinkNode>() {
                return to_json(
                    &LogicalPayload::Link {
                        spec: link.spec().clone(),
                    },
                    buf,
                );
            }
            DefaultLogicalExtensionCodec {}.try_encode(node, buf)
        })
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        no_panic("ltseq logical codec", || {
            match from_json::<ProviderPayload>(buf)? {
            ProviderPayload::Sequence { input, ordinal } => {
                // The scan's schema is the input's followed by the ordinal.
                let fields: Vec<_> = schema.fields().iter().filter(|f| f.name() != &ordinal).cloned().collect();
                let input_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
                Ok(Arc::new(SequenceTableProvider::try_new(input, input_schema, ordinal)?) as Arc<dyn TableProvider>)
            }
            ProviderPayload::Handle { handle } => lock(tables()).remove(&handle).ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "ltseq codec: table handle {handle} is unknown (tables with ltseq handles decode once, in the process that encoded them)"
                ))
            }),
        }
        })
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        no_panic("ltseq logical codec", || {
            let any: &dyn std::any::Any = node.as_ref();
            if let Some(seq) = any.downcast_ref::<SequenceTableProvider>() {
                let payload = ProviderPayload::Sequence {
                    input: seq.input_name().to_string(),
                    ordinal: seq.ordinal().to_string(),
                };
                return to_json(&payload, buf);
            }
            // A table DataFusion cannot write (an in-memory table, say): hand it over in-process.
            let _ = table_ref;
            let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
            lock(tables()).insert(handle, node);
            to_json(&ProviderPayload::Handle { handle }, buf)
        })
    }
}

/// Physical codec: `LtseqSequenceExec`, and (as in-process handles) plans it cannot write.
#[derive(Debug, Default)]
pub struct LtseqPhysicalCodec;

impl PhysicalExtensionCodec for LtseqPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        no_panic("ltseq physical codec", || {
            match from_json::<PhysicalPayload>(buf)? {
                PhysicalPayload::Sequence {
                    ordinal,
                    hidden_input,
                } => match hidden_input {
                    Some(handle) => Ok(Arc::new(SequenceExec::try_new(
                        take_plan(handle)?,
                        ordinal,
                        true,
                    )?) as _),
                    None => {
                        let [input] = inputs else {
                            return Err(DataFusionError::Internal(
                                "LtseqSequenceExec takes one input".into(),
                            ));
                        };
                        Ok(
                            Arc::new(SequenceExec::try_new(Arc::clone(input), ordinal, false)?)
                                as _,
                        )
                    }
                },
                PhysicalPayload::Link {
                    spec,
                    hidden_inputs,
                } => {
                    let (source, target, hide) = match hidden_inputs {
                        Some((s, t)) => (take_plan(s)?, take_plan(t)?, true),
                        None => {
                            let [s, t] = inputs else {
                                return Err(DataFusionError::Internal(
                                    "LtseqLinkExec takes two inputs".into(),
                                ));
                            };
                            (Arc::clone(s), Arc::clone(t), false)
                        }
                    };
                    Ok(Arc::new(LinkExec::try_new(source, target, spec, hide)?) as _)
                }
                PhysicalPayload::GroupOrdered { spec } => {
                    let [input] = inputs else {
                        return Err(DataFusionError::Internal(
                            "LtseqGroupOrderedExec takes one input".into(),
                        ));
                    };
                    Ok(Arc::new(spec.plan(Arc::clone(input))?) as _)
                }
                PhysicalPayload::Opaque { handle } => take_plan(handle),
            }
        })
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        no_panic("ltseq physical codec", || {
            let any: &dyn std::any::Any = node.as_ref();
            if let Some(seq) = any.downcast_ref::<SequenceExec>() {
                let hidden_input = seq
                    .hides_input()
                    .then(|| stash_plan(Arc::clone(seq.input())));
                return to_json(
                    &PhysicalPayload::Sequence {
                        ordinal: seq.ordinal().to_string(),
                        hidden_input,
                    },
                    buf,
                );
            }
            if let Some(link) = any.downcast_ref::<LinkExec>() {
                let hidden_inputs = link.hides_inputs().then(|| {
                    (
                        stash_plan(Arc::clone(link.source())),
                        stash_plan(Arc::clone(link.target())),
                    )
                });
                return to_json(
                    &PhysicalPayload::Link {
                        spec: link.spec().clone(),
                        hidden_inputs,
                    },
                    buf,
                );
            }
            if let Some(group) = any.downcast_ref::<GroupOrderedExec>() {
                if !group.hides_input() {
                    let spec = GroupOrderedSpec {
                        partition_by: group.partition_by().to_vec(),
                        boundary: group.boundary().clone(),
                        aggs: group.aggregates().to_vec(),
                        input_order: group.input_order(),
                    };
                    return to_json(&PhysicalPayload::GroupOrdered { spec }, buf);
                }
            }
            // A node nobody can write by value (e.g. a host's scan inside a plan ltseq planned).
            let handle = stash_plan(node);
            to_json(&PhysicalPayload::Opaque { handle }, buf)
        })
    }
}
