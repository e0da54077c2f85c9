//! Logical and physical extension codecs for ltseq's nodes, operators and tables.
//!
//! Payloads are small JSON documents: `{"kind": <name>, "spec": <the operator's spec>, ...}`,
//! where the kinds are the names of the nodes, operators and tables the operators register
//! (`crate::OPERATORS`); the codecs know none of them. What DataFusion cannot write by value
//! (a host's in-memory table in a logical plan, a host's scan reached through the FFI inside a
//! physical plan ltseq planned, an operator's hidden inputs) travels as an *in-process handle*:
//! the codec keeps the object in a registry and writes its id; the decoder takes it out. Plans
//! holding handles decode once, in the process that encoded them, which is all the FFI boundary
//! between a host and ltseq's query planner needs; shipping them to another process (a
//! distributed engine) needs the inputs visible, so that everything is written by value.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::{DefaultLogicalExtensionCodec, LogicalExtensionCodec};
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ordered::guard::no_panic;
use crate::ordered::registry::EncodedExec;
use crate::ordered::Functions;
use crate::OPERATORS;

/// A node, operator or table written by value.
#[derive(Serialize, Deserialize)]
struct Payload {
    kind: String,
    spec: Value,
    /// An operator's hidden inputs, as in-process handles (absent: its inputs are children).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hidden: Option<Vec<u64>>,
}

/// What the codecs write.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Written {
    /// Anything else, as an in-process handle.
    Handle {
        handle: u64,
    },
    Value(Payload),
}

fn to_json<T: Serialize>(value: &T, buf: &mut Vec<u8>) -> Result<()> {
    serde_json::to_writer(buf, value)
        .map_err(|e| DataFusionError::Internal(format!("ltseq codec: {e}")))
}

fn from_json<'a, T: Deserialize<'a>>(buf: &'a [u8]) -> Result<T> {
    serde_json::from_slice(buf)
        .map_err(|e| DataFusionError::Internal(format!("ltseq codec: not an ltseq payload: {e}")))
}

/// The registered kind called `name` among `kinds` (each named by `name_of`).
fn find<K: ?Sized>(
    kinds: impl Iterator<Item = &'static &'static K>,
    name: &str,
    name_of: impl Fn(&K) -> &'static str,
) -> Result<&'static K> {
    let mut kinds = kinds;
    kinds
        .find(|k| name_of(k) == name)
        .copied()
        .ok_or_else(|| DataFusionError::Internal(format!("ltseq codec: unknown kind {name:?}")))
}

/// Objects handed over in-process, once: the decoder takes them out.
struct Handles<T: ?Sized> {
    next: AtomicU64,
    items: OnceLock<Mutex<HashMap<u64, Arc<T>>>>,
}

impl<T: ?Sized> Handles<T> {
    const fn new() -> Self {
        Self {
            next: AtomicU64::new(1),
            items: OnceLock::new(),
        }
    }

    fn items(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<T>>> {
        let map = self.items.get_or_init(Default::default);
        map.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn stash(&self, item: Arc<T>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.items().insert(id, item);
        id
    }

    fn take(&self, id: u64, what: &str) -> Result<Arc<T>> {
        self.items().remove(&id).ok_or_else(|| {
            DataFusionError::Internal(format!(
                "ltseq codec: {what} handle {id} is unknown ({what}s with ltseq handles decode once, \
                 in the process that encoded them)"
            ))
        })
    }
}

static PLANS: Handles<dyn ExecutionPlan> = Handles::new();
static TABLES: Handles<dyn TableProvider> = Handles::new();

/// ltseq's logical codec: its nodes, and its tables in the plans a host hands over.
#[derive(Debug, Default)]
pub struct LtseqLogicalCodec;

/// What [`LtseqLogicalCodec`] writes for one of DataFusion's ordered-set aggregates.
const BUILTIN_AGGREGATE: &[u8] = b"ltseq:builtin-ordered-set-aggregate";

impl LogicalExtensionCodec for LtseqLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        _ctx: &TaskContext,
    ) -> Result<Extension> {
        no_panic("ltseq logical codec", || {
            let Written::Value(payload) = from_json::<Written>(buf)? else {
                return Err(DataFusionError::Internal(
                    "ltseq codec: a node is never a handle".into(),
                ));
            };
            let kinds = OPERATORS.iter().flat_map(|o| o.nodes.iter());
            let kind = find(kinds, &payload.kind, |k| k.name())?;
            Ok(Extension {
                node: kind.decode(payload.spec, inputs)?,
            })
        })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        no_panic("ltseq logical codec", || {
            for kind in OPERATORS.iter().flat_map(|o| o.nodes.iter()) {
                if let Some(spec) = kind.encode(node.node.as_ref())? {
                    let payload = Payload {
                        kind: kind.name().to_string(),
                        spec,
                        hidden: None,
                    };
                    return to_json(&Written::Value(payload), buf);
                }
            }
            DefaultLogicalExtensionCodec {}.try_encode(node, buf)
        })
    }

    /// An ordered-set aggregate of DataFusion's (`percentile_cont(0.5) WITHIN GROUP (...)`) is
    /// written with a marker, so that it is read back as the one linked here: found by name in
    /// a foreign host's function registry it would be the FFI's wrapper, which does not say it
    /// is ordered-set, and the plan's column names (`... WITHIN GROUP [...]`) would not match.
    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        if crate::host::builtin_ordered_set_aggregate(node.name()).is_some() {
            buf.extend_from_slice(BUILTIN_AGGREGATE);
        }
        Ok(())
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        if buf == BUILTIN_AGGREGATE {
            if let Some(f) = crate::host::builtin_ordered_set_aggregate(name) {
                return Ok(f);
            }
        }
        Err(DataFusionError::NotImplemented(format!(
            "ltseq codec: no aggregate function {name}"
        )))
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        no_panic("ltseq logical codec", || match from_json::<Written>(buf)? {
            Written::Handle { handle } => TABLES.take(handle, "table"),
            Written::Value(payload) => {
                let kinds = OPERATORS.iter().flat_map(|o| o.providers.iter());
                let kind = find(kinds, &payload.kind, |k| k.name())?;
                kind.decode(payload.spec, schema)
            }
        })
    }

    fn try_encode_table_provider(
        &self,
        _table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        no_panic("ltseq logical codec", || {
            for kind in OPERATORS.iter().flat_map(|o| o.providers.iter()) {
                if let Some(spec) = kind.encode(node.as_ref())? {
                    let payload = Payload {
                        kind: kind.name().to_string(),
                        spec,
                        hidden: None,
                    };
                    return to_json(&Written::Value(payload), buf);
                }
            }
            // A table DataFusion cannot write (an in-memory table, say): hand it over in-process.
            let handle = TABLES.stash(node);
            to_json(&Written::Handle { handle }, buf)
        })
    }
}

/// ltseq's physical codec: its operators (by value, hidden inputs as handles), and, as
/// in-process handles, plans nobody can write by value.
#[derive(Debug, Default)]
pub struct LtseqPhysicalCodec;

impl PhysicalExtensionCodec for LtseqPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        no_panic("ltseq physical codec", || {
            match from_json::<Written>(buf)? {
                Written::Handle { handle } => PLANS.take(handle, "plan"),
                Written::Value(payload) => {
                    let kinds = OPERATORS.iter().flat_map(|o| o.execs.iter());
                    let kind = find(kinds, &payload.kind, |k| k.name())?;
                    let (inputs, hidden) = match payload.hidden {
                        Some(handles) => (
                            handles
                                .into_iter()
                                .map(|h| PLANS.take(h, "plan"))
                                .collect::<Result<Vec<_>>>()?,
                            true,
                        ),
                        None => (inputs.to_vec(), false),
                    };
                    let encoded = EncodedExec {
                        spec: payload.spec,
                        hidden,
                        inputs,
                    };
                    kind.decode(encoded, &Functions::of_task(ctx))
                }
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
            for kind in OPERATORS.iter().flat_map(|o| o.execs.iter()) {
                if let Some(encoded) = kind.encode(node.as_ref())? {
                    let hidden = encoded
                        .hidden
                        .then(|| encoded.inputs.into_iter().map(|i| PLANS.stash(i)).collect());
                    let payload = Payload {
                        kind: kind.name().to_string(),
                        spec: encoded.spec,
                        hidden,
                    };
                    return to_json(&Written::Value(payload), buf);
                }
            }
            // A node nobody can write by value (e.g. a host's scan inside a plan ltseq planned).
            let handle = PLANS.stash(node);
            to_json(&Written::Handle { handle }, buf)
        })
    }
}
