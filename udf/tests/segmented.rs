//! Every segmented evaluator against the same function's `PartitionEvaluator` run partition by
//! partition (the SQL path): identical results, bit for bit, on random data with NULLs, NaN,
//! infinities, ties, one-row partitions, empty input, and windows of 1 row and longer than a
//! partition.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::functions_window::lead_lag::{lag_udwf, lead_udwf};
use datafusion::functions_window::row_number::row_number_udwf;
use datafusion::logical_expr::function::PartitionEvaluatorArgs;
use datafusion::logical_expr::WindowUDF;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_expr::PhysicalExpr;
use ltseq_udf::{all_window_udfs, segmented_evaluator, Segments};

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn floats(rng: &mut Rng, n: usize) -> ArrayRef {
    Arc::new(Float64Array::from_iter((0..n).map(
        |_| match rng.below(20) {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(f64::INFINITY),
            3 => Some(f64::NEG_INFINITY),
            4 => Some(1e200),
            _ => Some((rng.below(9) as f64 - 4.0) * 0.5),
        },
    )))
}

fn ints(rng: &mut Rng, n: usize) -> ArrayRef {
    Arc::new(Int64Array::from_iter((0..n).map(|_| match rng.below(10) {
        0 => None,
        1 => Some(i64::MAX),
        _ => Some(rng.below(7) as i64 - 3),
    })))
}

fn decimals(rng: &mut Rng, n: usize) -> ArrayRef {
    let a = Decimal128Array::from_iter(
        (0..n).map(|_| (rng.below(8) != 0).then(|| rng.below(1000) as i128 - 500)),
    );
    Arc::new(a.with_precision_and_scale(20, 2).expect("decimal"))
}

fn strings(rng: &mut Rng, n: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter((0..n).map(|_| {
        (rng.below(6) != 0).then(|| ["a", "b"][rng.below(2) as usize])
    })))
}

fn segments(rng: &mut Rng, n: usize) -> Segments {
    let mut starts = Vec::new();
    let mut i = 0;
    while i < n {
        starts.push(i);
        i += match rng.below(4) {
            0 => 1,
            1 => 1 + rng.below(3) as usize,
            2 => 1 + rng.below(12) as usize,
            _ => 1 + rng.below(60) as usize,
        };
    }
    Segments::new(starts, n).expect("segments")
}

/// `udwf`'s results over `x` with the constant arguments `constants`: partition by partition
/// through its `PartitionEvaluator`, and all at once through its segmented evaluator.
fn both(
    udwf: &WindowUDF,
    x: &ArrayRef,
    constants: &[ScalarValue],
    segs: &Segments,
) -> Option<(ArrayRef, ArrayRef)> {
    let mut exprs: Vec<Arc<dyn PhysicalExpr>> = vec![Arc::new(Column::new("x", 0))];
    let mut fields: Vec<FieldRef> = vec![Arc::new(Field::new("x", x.data_type().clone(), true))];
    for c in constants {
        exprs.push(Arc::new(Literal::new(c.clone())));
        fields.push(Arc::new(Field::new("c", c.data_type(), true)));
    }
    let args = || PartitionEvaluatorArgs::new(&exprs, &fields, false, false);
    let mut segmented = segmented_evaluator(udwf, args()).expect("segmented evaluator")?;
    let values = |x: ArrayRef| -> Vec<ArrayRef> {
        let n = x.len();
        let mut v = vec![x];
        v.extend(
            constants
                .iter()
                .map(|c| c.to_array_of_size(n).expect("constant")),
        );
        v
    };
    let all = segmented
        .evaluate_segments(&values(Arc::clone(x)), segs)
        .expect("evaluate_segments");
    let mut pieces = Vec::new();
    for r in segs.ranges() {
        let mut evaluator = udwf.partition_evaluator_factory(args()).expect("evaluator");
        let part = values(x.slice(r.start, r.len()));
        pieces.push(
            evaluator
                .evaluate_all(&part, r.len())
                .expect("evaluate_all"),
        );
    }
    let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
    let whole = if refs.is_empty() {
        Arc::clone(&all)
    } else {
        concat(&refs).expect("concat")
    };
    Some((whole, all))
}

fn same(a: &ArrayRef, b: &ArrayRef) -> bool {
    // arrow's equality: values compared as bytes (a NaN equals a NaN of the same bits), NULL
    // slots ignored
    a.as_ref() == b.as_ref()
}

fn inputs(rng: &mut Rng, n: usize, name: &str) -> Vec<ArrayRef> {
    match name {
        "run_id" | "lag" | "lead" | "row_number" | "rolling_count" | "cum_count" => {
            vec![floats(rng, n), ints(rng, n), strings(rng, n)]
        }
        "pct_change" | "rolling_std" | "rolling_var" | "rolling_avg" => {
            vec![floats(rng, n), ints(rng, n)]
        }
        _ => vec![floats(rng, n), ints(rng, n), decimals(rng, n)],
    }
}

fn constants(name: &str, w: i64) -> Vec<Vec<ScalarValue>> {
    let int = |v: i64| ScalarValue::Int64(Some(v));
    if name.starts_with("rolling_") {
        return vec![
            vec![int(w)],
            vec![int(w), int(w.clamp(1, 2))],
            vec![int(w), int(w)],
        ];
    }
    match name {
        "diff" | "pct_change" => vec![
            vec![],
            vec![int(1)],
            vec![int(w)],
            vec![int(-w)],
            vec![int(0)],
        ],
        "lag" | "lead" => vec![vec![], vec![int(w)], vec![int(-1)], vec![int(0)]],
        _ => vec![vec![]],
    }
}

#[test]
fn segmented_equals_partition_by_partition() {
    let mut functions: Vec<Arc<WindowUDF>> = all_window_udfs();
    functions.extend([lag_udwf(), lead_udwf(), row_number_udwf()]);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut checked = 0;
    for round in 0..40 {
        let n = match round {
            0 => 0,
            1 => 1,
            _ => rng.below(400) as usize,
        };
        let segs = segments(&mut rng, n);
        for udwf in &functions {
            let name = udwf.name().to_string();
            for x in inputs(&mut rng, n, &name) {
                for w in [1i64, 3, 1000] {
                    for cs in constants(&name, w) {
                        let args = cs.clone();
                        let Some((whole, all)) = both(udwf, &x, &args, &segs) else {
                            panic!("{name} has no segmented evaluator");
                        };
                        assert!(
                            same(&whole, &all),
                            "{name}({:?}, {args:?}) over {:?}: partition by partition {whole:?}, segmented {all:?}",
                            x.data_type(),
                            segs.ranges().collect::<Vec<_>>()
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn lag_with_a_default_fills_partition_starts() {
    let x: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5]));
    let segs = Segments::new(vec![0, 2], 5).expect("segments");
    let (whole, all) = both(
        &lag_udwf(),
        &x,
        &[ScalarValue::Int64(Some(1)), ScalarValue::Int64(Some(-7))],
        &segs,
    )
    .expect("lag");
    let want: ArrayRef = Arc::new(Int64Array::from(vec![-7, 1, -7, 3, 4]));
    assert_eq!(whole.as_ref(), want.as_ref());
    assert_eq!(all.as_ref(), want.as_ref());
}
