//! The Window operator against DataFusion's own window evaluation of the same SQL functions:
//! identical results, for partitions that span batches, one-row partitions, no partitioning,
//! constant arguments and empty input.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::physical_plan::{collect, ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::{SessionConfig, SessionContext};
use ltseq_planner::{WindowArg, WindowCall, WindowExec};

fn context(rows: usize, batch: usize) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(batch);
    let ctx = SessionContext::new_with_config(config);
    ltseq_udf::register_all(&ctx)?;
    // g: partitions of varying length (1, 2, 3, ... rows), x: values with NULLs.
    let mut g = Vec::with_capacity(rows);
    let (mut key, mut left, mut len) = (0i64, 1usize, 1usize);
    for _ in 0..rows {
        if left == 0 {
            key += 1;
            len = len % 7 + 1;
            left = len;
        }
        g.push(key);
        left -= 1;
    }
    let i: Vec<i64> = (0..rows as i64).collect();
    let x: Vec<Option<f64>> = (0..rows)
        .map(|k| (k % 5 != 3).then(|| ((k * 37) % 101) as f64 / 4.0))
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, false),
        Field::new("i", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(g)) as ArrayRef,
            Arc::new(Int64Array::from(i)),
            Arc::new(Float64Array::from(x)),
        ],
    )?;
    let batches: Vec<RecordBatch> = (0..rows)
        .step_by(batch.num_rows().clamp(1, 5))
        .map(|s| batch.slice(s, 5.min(rows - s)))
        .collect();
    ctx.register_table("t", Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(ctx)
}

fn call(function: &str, args: Vec<WindowArg>, output: &str) -> WindowCall {
    WindowCall {
        function: function.to_string(),
        args,
        output: output.to_string(),
    }
}

fn col(name: &str) -> WindowArg {
    WindowArg::Column(name.to_string())
}

fn lit(v: i64) -> WindowArg {
    WindowArg::Literal(ScalarValue::Int64(Some(v)))
}

async fn check(rows: usize, batch: usize, partition: bool) -> Result<()> {
    let ctx = context(rows, batch)?;
    let calls = vec![
        call("rolling_avg", vec![col("x"), lit(3), lit(2)], "a"),
        call("rolling_max", vec![col("x"), lit(4)], "b"),
        call("cum_sum", vec![col("x")], "c"),
        call("lag", vec![col("x"), lit(2)], "d"),
        call("lead", vec![col("x"), lit(1)], "e"),
        call("diff", vec![col("x")], "f"),
        call("row_number", vec![], "h"),
        call("rolling_std", vec![col("x"), lit(5)], "s"),
    ];
    let over = if partition {
        "PARTITION BY g ORDER BY i"
    } else {
        "ORDER BY i"
    };
    let expected = ctx
        .sql(&format!(
            "SELECT g, i, x, rolling_avg(x, 3, 2) OVER w AS a, rolling_max(x, 4) OVER w AS b, \
             cum_sum(x) OVER w AS c, lag(x, 2) OVER w AS d, lead(x, 1) OVER w AS e, \
             diff(x) OVER w AS f, row_number() OVER w AS h, rolling_std(x, 5) OVER w AS s \
             FROM t WINDOW w AS ({over}) ORDER BY i"
        ))
        .await?
        .collect()
        .await?;
    let input = ctx
        .sql("SELECT * FROM t ORDER BY i")
        .await?
        .create_physical_plan()
        .await?;
    let partition_by = if partition {
        vec!["g".to_string()]
    } else {
        vec![]
    };
    let exec: Arc<dyn ExecutionPlan> = Arc::new(WindowExec::try_new(
        input,
        None,
        partition_by,
        calls,
        false,
    )?);
    let got = collect(exec, ctx.task_ctx()).await?;
    let schema = got
        .first()
        .map(|b| b.schema())
        .unwrap_or_else(|| Arc::new(Schema::empty()));
    let got = concat_batches(&schema, &got)?;
    let want = concat_batches(&expected[0].schema(), &expected)?;
    assert_eq!(got.num_rows(), rows);
    assert_eq!(want.num_rows(), rows);
    for c in 0..want.num_columns() {
        let (a, b) = (got.column(c), want.column(c));
        assert_eq!(a.data_type(), b.data_type(), "column {c}");
        assert_eq!(
            a.to_data(),
            b.to_data(),
            "column {} differs",
            want.schema().field(c).name()
        );
    }
    Ok(())
}

#[tokio::test]
async fn same_results_as_sql_windows() -> Result<()> {
    for (rows, batch) in [(1, 1), (2, 1), (57, 3), (500, 8192), (1000, 7)] {
        check(rows, batch, true).await?;
        check(rows, batch, false).await?;
    }
    Ok(())
}

#[tokio::test]
async fn empty_input_gives_no_rows() -> Result<()> {
    let ctx = context(10, 4)?;
    let input = ctx
        .sql("SELECT * FROM t WHERE i < 0 ORDER BY i")
        .await?
        .create_physical_plan()
        .await?;
    let calls = vec![call("cum_sum", vec![col("x")], "c")];
    let exec = Arc::new(WindowExec::try_new(
        input,
        None,
        vec!["g".into()],
        calls,
        false,
    )?);
    let got = collect(exec, ctx.task_ctx()).await?;
    assert_eq!(got.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    Ok(())
}

#[tokio::test]
async fn bad_calls_are_plan_errors() -> Result<()> {
    let ctx = context(10, 4)?;
    let input = ctx
        .sql("SELECT * FROM t ORDER BY i")
        .await?
        .create_physical_plan()
        .await?;
    let try_call =
        |c: WindowCall| WindowExec::try_new(Arc::clone(&input), None, vec![], vec![c], false);
    let e = try_call(call("no_such_fn", vec![col("x")], "o"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown or unsupported window function 'no_such_fn'"),
        "{e}"
    );
    let e = try_call(call("cum_sum", vec![col("nope")], "o"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no input column named \"nope\""), "{e}");
    let e = try_call(call("rolling_sum", vec![col("x"), lit(0)], "o"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("positive integer"), "{e}");
    let e = try_call(call("cum_sum", vec![col("x")], "x"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists"), "{e}");
    let multi = ctx
        .sql("SELECT * FROM t")
        .await?
        .create_physical_plan()
        .await?;
    if multi.output_partitioning().partition_count() > 1 {
        let e = WindowExec::try_new(
            multi,
            None,
            vec![],
            vec![call("cum_sum", vec![col("x")], "o")],
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("one partition"), "{e}");
    }
    Ok(())
}

/// Only look-backs and one window partition: the operator streams batch by batch (keeping the
/// last rows it needs) and still matches SQL exactly.
#[tokio::test]
async fn streaming_lookbacks_match_sql() -> Result<()> {
    for (rows, batch) in [(1, 1), (3, 1), (57, 2), (1000, 7)] {
        let ctx = context(rows, batch)?;
        let want = ctx
            .sql(
                "SELECT g, i, x, lag(x, 2) OVER w AS a, diff(x) OVER w AS b, pct_change(x, 3) OVER w AS c, \
                 lag(i, 1, -1) OVER w AS d FROM t WINDOW w AS (ORDER BY i) ORDER BY i",
            )
            .await?
            .collect()
            .await?;
        let input = ctx
            .sql("SELECT * FROM t ORDER BY i")
            .await?
            .create_physical_plan()
            .await?;
        let calls = vec![
            call("lag", vec![col("x"), lit(2)], "a"),
            call("diff", vec![col("x")], "b"),
            call("pct_change", vec![col("x"), lit(3)], "c"),
            call("lag", vec![col("i"), lit(1), lit(-1)], "d"),
        ];
        let exec: Arc<dyn ExecutionPlan> =
            Arc::new(WindowExec::try_new(input, None, vec![], calls, false)?);
        let got = collect(exec.clone(), ctx.task_ctx()).await?;
        let got = concat_batches(&exec.schema(), &got)?;
        let want = concat_batches(&want[0].schema(), &want)?;
        for c in 0..want.num_columns() {
            assert_eq!(
                got.column(c).to_data(),
                want.column(c).to_data(),
                "column {c}, rows {rows}"
            );
        }
    }
    Ok(())
}

/// String views in partitions of 7 rows, one open at every batch boundary: the rows carried
/// from batch to batch must not hold every earlier batch's string data (each output batch's
/// window column holds about one input batch of bytes, not all of them), and the values are
/// `lag`'s within each partition.
#[tokio::test]
async fn string_views_carried_across_batches_hold_no_earlier_batches() -> Result<()> {
    use datafusion::arrow::array::StringViewArray;
    let (batches, per_batch) = (40usize, 500usize);
    let schema = Arc::new(Schema::new(vec![
        Field::new("g", DataType::Int64, false),
        Field::new("s", DataType::Utf8View, false),
    ]));
    let mut input = Vec::new();
    for b in 0..batches {
        // strings longer than 12 bytes live in the data buffers, not in the views
        let s: Vec<String> = (0..per_batch)
            .map(|i| format!("a string long enough {b:04}-{i:04}"))
            .collect();
        input.push(RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(
                    (0..per_batch).map(|i| ((b * per_batch + i) / 7) as i64),
                )) as ArrayRef,
                Arc::new(StringViewArray::from_iter_values(s.iter())),
            ],
        )?);
    }
    let one_batch = input[0].column(1).get_buffer_memory_size();
    let config = SessionConfig::new()
        .with_batch_size(per_batch)
        .with_target_partitions(1);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_table(
        "v",
        Arc::new(MemTable::try_new(Arc::clone(&schema), vec![input.clone()])?),
    )?;
    let plan = ctx
        .sql("SELECT * FROM v")
        .await?
        .create_physical_plan()
        .await?;
    let calls = vec![call("lag", vec![col("s"), lit(1)], "p")];
    let exec: Arc<dyn ExecutionPlan> = Arc::new(WindowExec::try_new(
        plan,
        None,
        vec!["g".to_string()],
        calls,
        false,
    )?);
    let got = collect(exec, ctx.task_ctx()).await?;
    let mut previous: Option<String> = None;
    let mut rows = 0;
    for out in &got {
        let lagged = out.column(2);
        assert!(
            lagged.get_buffer_memory_size() < 4 * one_batch,
            "an output batch's lag column holds {} bytes, one input batch {one_batch}",
            lagged.get_buffer_memory_size()
        );
        let values = lagged.as_any().downcast_ref::<StringViewArray>();
        let strings = out.column(1).as_any().downcast_ref::<StringViewArray>();
        let (Some(values), Some(strings)) = (values, strings) else {
            panic!("string view columns expected");
        };
        for i in 0..out.num_rows() {
            let first_of_partition = rows % 7 == 0;
            let want = previous.take().filter(|_| !first_of_partition);
            let got = (!values.is_null(i)).then(|| values.value(i).to_string());
            assert_eq!(got, want, "row {rows}");
            previous = Some(strings.value(i).to_string());
            rows += 1;
        }
    }
    assert_eq!(rows, batches * per_batch);
    Ok(())
}
