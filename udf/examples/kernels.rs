//! Times ltseq's window kernels on whole partitions: 10 million float rows in partitions of
//! 2,500, one thread. Shows the per-row cost of each kernel, apart from DataFusion's
//! operators around it.
//!
//! `cargo run -p ltseq-udf --example kernels [rows]`

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use datafusion::error::Result;
use ltseq_udf::cumulative::cumulative_array;
use ltseq_udf::rolling::rolling_array;
use ltseq_udf::{CumulativeKind, RollingKind};

fn time(
    label: &str,
    rows: usize,
    parts: &[ArrayRef],
    f: impl Fn(&ArrayRef) -> Result<ArrayRef>,
) -> Result<()> {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut n = 0;
        for p in parts {
            n += f(p)?.len();
        }
        assert_eq!(n, rows);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{label:28} {best:.3} s  {:.2} ns/row",
        best * 1e9 / rows as f64
    );
    Ok(())
}

fn main() -> Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let per = 2_500;
    // A deterministic walk (no RNG dependency): values with some spread.
    let mut x = 100.0f64;
    let values: Vec<f64> = (0..rows)
        .map(|i| {
            x += ((i as f64 * 0.7).sin() * 1.3).round() * 0.01;
            x
        })
        .collect();
    let floats: ArrayRef = Arc::new(Float64Array::from(values.clone()));
    let ints: ArrayRef = Arc::new(Int64Array::from_iter_values(
        (0..rows as i64).map(|i| i % 1000),
    ));
    let fparts: Vec<ArrayRef> = (0..rows)
        .step_by(per)
        .map(|s| floats.slice(s, per.min(rows - s)))
        .collect();
    let iparts: Vec<ArrayRef> = (0..rows)
        .step_by(per)
        .map(|s| ints.slice(s, per.min(rows - s)))
        .collect();
    for (label, kind, w, mp) in [
        ("rolling_avg f64 w=20 mp=20", RollingKind::Avg, 20, 20),
        ("rolling_sum f64 w=20", RollingKind::Sum, 20, 1),
        ("rolling_max f64 w=20", RollingKind::Max, 20, 1),
        ("rolling_max f64 w=100", RollingKind::Max, 100, 1),
        ("rolling_std f64 w=20", RollingKind::Std, 20, 1),
        ("rolling_count f64 w=20", RollingKind::Count, 20, 1),
    ] {
        time(label, rows, &fparts, |p| rolling_array(kind, p, w, mp))?;
    }
    time("rolling_sum i64 w=20", rows, &iparts, |p| {
        rolling_array(RollingKind::Sum, p, 20, 1)
    })?;
    time("cum_sum i64", rows, &iparts, |p| {
        cumulative_array(CumulativeKind::Sum, p)
    })?;
    time("cum_sum f64", rows, &fparts, |p| {
        cumulative_array(CumulativeKind::Sum, p)
    })?;
    Ok(())
}
