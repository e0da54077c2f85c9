//! The logical as-of join node (`LtseqAsofJoin` in `EXPLAIN`): inputs left, right.

use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;

use super::exec::AsofExec;
use super::spec::{AsofSpec, NODE_NAME};
use crate::ordered::{Functions, NodeSpec, OrderedNode};

/// The logical as-of join node: the left's columns, then the fetched right columns.
pub type AsofNode = OrderedNode<AsofSpec>;

impl OrderedNode<AsofSpec> {
    pub fn try_new(left: LogicalPlan, right: LogicalPlan, spec: AsofSpec) -> Result<Self> {
        Self::new(spec, vec![left, right])
    }
}

impl NodeSpec for AsofSpec {
    const NAME: &'static str = NODE_NAME;
    const INPUTS: usize = 2;

    fn schema(&self, inputs: &[LogicalPlan]) -> Result<DFSchemaRef> {
        let left = inputs[0].schema();
        let out = self
            .resolve(left.as_arrow(), inputs[1].schema().as_arrow())?
            .schema;
        let fetched: Vec<Field> = out.fields()[left.fields().len()..]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let extra = DFSchema::from_unqualified_fields(fetched.into(), Default::default())?;
        let mut schema = left.as_ref().clone();
        schema.merge(&extra);
        Ok(Arc::new(schema))
    }

    fn summary(&self) -> String {
        AsofSpec::summary(self)
    }

    fn necessary_columns(
        &self,
        inputs: &[LogicalPlan],
        output_columns: &[usize],
    ) -> Option<Vec<Vec<usize>>> {
        let left = inputs[0].schema();
        let right = inputs[1].schema();
        let n = left.fields().len();
        let mut l: Vec<usize> = output_columns.iter().copied().filter(|&i| i < n).collect();
        for k in self.left_by.iter().chain([&self.left_on]) {
            l.push(left.index_of_column_by_name(None, k)?);
        }
        l.sort_unstable();
        l.dedup();
        // The fetched columns are fixed by the spec: keep every one the node reads.
        let mut r = Vec::new();
        for k in self
            .right_by
            .iter()
            .chain([&self.right_on])
            .chain(&self.fetch)
        {
            r.push(right.index_of_column_by_name(None, k)?);
        }
        r.sort_unstable();
        r.dedup();
        Some(vec![l, r])
    }

    fn plan(
        &self,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        functions: &Functions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(AsofExec::with_functions(
            self.clone(),
            inputs,
            false,
            functions,
        )?))
    }
}
