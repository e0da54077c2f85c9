//! The one registry of ltseq's window functions: every function is built once, here, and
//! found by name (in the way DataFusion's `functions-window` crate keeps one instance of each).

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::WindowUDF;

use crate::cumulative::{Cumulative, CumulativeKind};
use crate::difference::{Difference, DifferenceKind};
use crate::rolling::{Rolling, RollingKind};
use crate::run_id::RunId;

static FUNCTIONS: LazyLock<Vec<Arc<WindowUDF>>> = LazyLock::new(|| {
    let mut all = vec![Arc::new(WindowUDF::from(RunId::new()))];
    all.extend(
        RollingKind::ALL
            .iter()
            .map(|k| Arc::new(WindowUDF::from(Rolling::new(*k)))),
    );
    all.extend(
        CumulativeKind::ALL
            .iter()
            .map(|k| Arc::new(WindowUDF::from(Cumulative::new(*k)))),
    );
    all.extend(
        DifferenceKind::ALL
            .iter()
            .map(|k| Arc::new(WindowUDF::from(Difference::new(*k)))),
    );
    all
});

/// Every ltseq window function, ready to register.
pub fn all_window_udfs() -> Vec<Arc<WindowUDF>> {
    FUNCTIONS.clone()
}

/// The ltseq window function called `name` (or one of its aliases; any case).
pub fn window_udf(name: &str) -> Option<Arc<WindowUDF>> {
    let lower = name.to_ascii_lowercase();
    FUNCTIONS
        .iter()
        .find(|f| f.name() == lower || f.aliases().iter().any(|a| a == &lower))
        .cloned()
}

/// The registered function `name`; `make` builds one only if the registry has none (it always
/// has every function, so this never happens).
pub(crate) fn get(name: &str, make: impl FnOnce() -> WindowUDF) -> Arc<WindowUDF> {
    window_udf(name).unwrap_or_else(|| Arc::new(make()))
}
