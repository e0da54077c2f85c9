//! The scalar functions that an operator's own SQL expressions (a group-split predicate) may
//! call: DataFusion's built-in ones, plus the functions of the session that plans or runs the
//! operator (in a stock Python context these are the host's, reached through the FFI).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{FieldRef, SchemaRef};
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::session_state::SessionState;
use datafusion::execution::{FunctionRegistry, SessionStateBuilder, TaskContext};
use datafusion::logical_expr::type_coercion::functions::{fields_with_udf, UDFCoercionExt};
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_expr::expressions::cast;
use datafusion::physical_expr::PhysicalExpr;

/// The error for a call of a function `who` does not know (`what`: "aggregate function", ...).
pub fn unknown_function(who: &str, what: &str, name: &str) -> DataFusionError {
    DataFusionError::Plan(format!("{who}: unknown {what} '{name}'"))
}

/// A session's scalar functions (or none: DataFusion's built-ins only).
#[derive(Clone, Default)]
pub struct Functions {
    session: Option<Arc<HashMap<String, Arc<ScalarUDF>>>>,
}

impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.session {
            Some(map) => write!(f, "Functions(session, {} scalar functions)", map.len()),
            None => write!(f, "Functions(built-in)"),
        }
    }
}

impl Functions {
    /// DataFusion's built-in functions only.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// The functions of a session (the planning side).
    pub fn of_session(session: &dyn Session) -> Self {
        Self {
            session: Some(Arc::new(session.scalar_functions().clone())),
        }
    }

    /// The functions of a task (the executing side, e.g. after a plan was decoded).
    pub fn of_task(task: &TaskContext) -> Self {
        Self {
            session: Some(Arc::new(task.scalar_functions().clone())),
        }
    }

    /// A session state that knows DataFusion's built-in functions and, where DataFusion has no
    /// function of that name, the session's: for compiling SQL text into expressions. The
    /// built-ins stay native, so only the session's own functions are called through it.
    pub fn state(&self) -> SessionState {
        let mut state = SessionStateBuilder::new().with_default_features().build();
        if let Some(map) = &self.session {
            for (name, udf) in map.iter() {
                if state.udf(name).is_err() {
                    // A name clash cannot happen (the name is not registered); the previous
                    // function returned on success is None.
                    let _ = state.register_udf(Arc::clone(udf));
                }
            }
        }
        state
    }
}

/// Argument expressions of a function call, and their fields.
pub type Args = (Vec<Arc<dyn PhysicalExpr>>, Vec<FieldRef>);

/// The arguments `exprs` (over `schema`) of the function `udf`, cast to the types the function
/// coerces them to (as the SQL planner would: the median of integers is a float), and their
/// fields after coercion.
pub fn coerce_args<F: UDFCoercionExt>(
    udf: &F,
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    schema: &SchemaRef,
) -> Result<Args> {
    let current: Vec<FieldRef> = exprs
        .iter()
        .map(|e| e.return_field(schema))
        .collect::<Result<_>>()?;
    let fields = fields_with_udf(&current, udf)?;
    let exprs = exprs
        .into_iter()
        .zip(current.iter().zip(&fields))
        .map(|(e, (now, want))| {
            if now.data_type() == want.data_type() {
                Ok(e)
            } else {
                cast(e, schema, want.data_type().clone())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((exprs, fields))
}
