//! The logical `Sequence` node (`LtseqSequence` in `EXPLAIN`).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;

use super::exec::{SequenceExec, SequenceSpec};
use crate::ordered::{Functions, NodeSpec, OrderedNode};

/// The logical `Sequence` node: its input's columns, then the ordinal.
pub type SequenceNode = OrderedNode<SequenceSpec>;

impl OrderedNode<SequenceSpec> {
    pub fn try_new(input: LogicalPlan, ordinal: impl Into<String>) -> Result<Self> {
        let spec = SequenceSpec {
            ordinal: ordinal.into(),
        };
        Self::new(spec, vec![input])
    }

    pub fn ordinal(&self) -> &str {
        &self.spec().ordinal
    }
}

impl NodeSpec for SequenceSpec {
    const NAME: &'static str = "LtseqSequence";
    const INPUTS: usize = 1;

    fn schema(&self, inputs: &[LogicalPlan]) -> Result<DFSchemaRef> {
        let input_schema = inputs[0].schema();
        if input_schema
            .field_with_unqualified_name(&self.ordinal)
            .is_ok()
        {
            return Err(DataFusionError::Plan(format!(
                "ltseq_sequence: the input already has a column named {:?}",
                self.ordinal
            )));
        }
        let extra = DFSchema::from_unqualified_fields(
            vec![Field::new(&self.ordinal, DataType::Int64, false)].into(),
            Default::default(),
        )?;
        let mut schema = input_schema.as_ref().clone();
        schema.merge(&extra);
        Ok(Arc::new(schema))
    }

    fn summary(&self) -> String {
        format!("ordinal={}", self.ordinal)
    }

    fn necessary_columns(
        &self,
        inputs: &[LogicalPlan],
        output_columns: &[usize],
    ) -> Option<Vec<Vec<usize>>> {
        // The ordinal counts input rows, not columns: any subset of the input's columns will do.
        let n = inputs[0].schema().fields().len();
        Some(vec![output_columns
            .iter()
            .copied()
            .filter(|&i| i < n)
            .collect()])
    }

    fn plan(
        &self,
        inputs: Vec<std::sync::Arc<dyn ExecutionPlan>>,
        functions: &Functions,
    ) -> Result<std::sync::Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(SequenceExec::with_functions(
            self.clone(),
            inputs,
            false,
            functions,
        )?))
    }
}
