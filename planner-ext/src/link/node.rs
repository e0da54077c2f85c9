//! The logical `Link` node (`LtseqLink` in `EXPLAIN`): inputs source, target.

use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;

use super::exec::LinkExec;
use super::spec::{LinkSpec, NODE_NAME};
use crate::ordered::{Functions, NodeSpec, OrderedNode};

/// The logical `Link` node: the source's columns, then the fetched target columns.
pub type LinkNode = OrderedNode<LinkSpec>;

impl OrderedNode<LinkSpec> {
    pub fn try_new(source: LogicalPlan, target: LogicalPlan, spec: LinkSpec) -> Result<Self> {
        Self::new(spec, vec![source, target])
    }
}

impl NodeSpec for LinkSpec {
    const NAME: &'static str = NODE_NAME;
    const INPUTS: usize = 2;

    fn schema(&self, inputs: &[LogicalPlan]) -> Result<DFSchemaRef> {
        let source_schema = inputs[0].schema();
        let (_, out) = self.resolve(source_schema.as_arrow(), inputs[1].schema().as_arrow())?;
        let fetched: Vec<Field> = out.fields()[source_schema.fields().len()..]
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let extra = DFSchema::from_unqualified_fields(fetched.into(), Default::default())?;
        let mut schema = source_schema.as_ref().clone();
        schema.merge(&extra);
        Ok(Arc::new(schema))
    }

    fn summary(&self) -> String {
        LinkSpec::summary(self)
    }

    fn necessary_columns(
        &self,
        inputs: &[LogicalPlan],
        output_columns: &[usize],
    ) -> Option<Vec<Vec<usize>>> {
        let source = inputs[0].schema();
        let target = inputs[1].schema();
        let n = source.fields().len();
        let mut s: Vec<usize> = output_columns.iter().copied().filter(|&i| i < n).collect();
        for k in &self.source_keys {
            s.push(source.index_of_column_by_name(None, k)?);
        }
        s.sort_unstable();
        s.dedup();
        // The fetched columns are fixed by the spec: keep every one the node reads.
        let mut t = Vec::new();
        for k in self.target_keys.iter().chain(&self.fetch) {
            t.push(target.index_of_column_by_name(None, k)?);
        }
        t.sort_unstable();
        t.dedup();
        Some(vec![s, t])
    }

    fn plan(
        &self,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        functions: &Functions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(LinkExec::with_functions(
            self.clone(),
            inputs,
            false,
            functions,
        )?))
    }
}
