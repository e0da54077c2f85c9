//! Every operator is written by value by ltseq's physical codec: a plan of hidden-input
//! operators (a split predicate compiled in the operator, a window call with a constant, a
//! search over steps) encodes, decodes (the hidden inputs as in-process handles) and returns
//! the same rows as the original.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;
use datafusion_proto::physical_plan::{DefaultPhysicalProtoConverter, PhysicalExtensionCodec};
use ltseq_planner::{
    AggCall, Boundary, GroupOrderedExec, Lag, LtseqPhysicalCodec, PatternExec, PatternOutput,
    SplitPredicate, WindowArg, WindowCall, WindowExec,
};

fn table() -> Result<MemTable> {
    let n = 200i64;
    let schema = Arc::new(Schema::new(vec![
        Field::new("u", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
        Field::new("s", DataType::Boolean, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| i / 7))) as ArrayRef,
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| (i * 13) % 17))),
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 3 == 0)))),
        ],
    )?;
    let batches: Vec<RecordBatch> = (0..n as usize)
        .step_by(9)
        .map(|s| batch.slice(s, 9.min(n as usize - s)))
        .collect();
    MemTable::try_new(schema, vec![batches])
}

async fn rows(plan: Arc<dyn ExecutionPlan>, ctx: &SessionContext) -> Result<RecordBatch> {
    let batches = collect(Arc::clone(&plan), ctx.task_ctx()).await?;
    Ok(concat_batches(&plan.schema(), &batches)?)
}

async fn round_trip(plan: Arc<dyn ExecutionPlan>, ctx: &SessionContext) -> Result<()> {
    let mut buf = Vec::new();
    let converter = DefaultPhysicalProtoConverter {};
    LtseqPhysicalCodec.try_encode(Arc::clone(&plan), &mut buf, &converter)?;
    let back = LtseqPhysicalCodec.try_decode(&buf, &[], &ctx.task_ctx(), &converter)?;
    assert_eq!(back.name(), plan.name());
    assert_eq!(rows(back, ctx).await?, rows(plan, ctx).await?);
    Ok(())
}

#[tokio::test]
async fn hidden_input_operators_round_trip_by_value() -> Result<()> {
    let ctx = SessionContext::new();
    let input = || async { table()?.scan(&ctx.state(), None, &[], None).await };
    let predicate = SplitPredicate {
        sql: "u <> lu OR v < lv".into(),
        lags: vec![
            Lag {
                column: "u".into(),
                offset: 1,
                name: "lu".into(),
            },
            Lag {
                column: "v".into(),
                offset: 1,
                name: "lv".into(),
            },
        ],
    };
    let count = AggCall {
        function: "count".into(),
        args: vec![],
        output: "n".into(),
    };
    let groups = GroupOrderedExec::try_new(
        input().await?,
        None,
        vec![],
        Boundary::Predicate(predicate),
        vec![count],
        true,
    )?;
    round_trip(Arc::new(groups), &ctx).await?;
    let call = WindowCall {
        function: "rolling_sum".into(),
        args: vec![
            WindowArg::Column("v".into()),
            WindowArg::Literal(ScalarValue::Int64(Some(3))),
        ],
        output: "r".into(),
    };
    let window = WindowExec::try_new(input().await?, None, vec!["u".into()], vec![call], true)?;
    round_trip(Arc::new(window), &ctx).await?;
    let steps = vec!["s".to_string(), "s".to_string()];
    let pattern = PatternExec::try_new(
        input().await?,
        None,
        steps,
        vec!["u".into()],
        PatternOutput::Count,
        true,
    )?;
    round_trip(Arc::new(pattern), &ctx).await?;
    Ok(())
}
