use super::*;
use datafusion::arrow::array::Int64Array;

fn f(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn floats(a: &ArrayRef) -> Vec<Option<f64>> {
    a.as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .iter()
        .collect()
}

#[test]
fn variance_is_stable() {
    let var = |v: &[Option<f64>], w: usize| {
        floats(&rolling_array(RollingKind::Var, &f(v), w, 1).unwrap())
    };
    // a far-off value leaving the window leaves no residue
    assert_eq!(
        var(&[Some(134.0), Some(0.0), Some(0.0)], 2),
        vec![None, Some(8978.0), Some(0.0)]
    );
    let got = var(&[Some(149442.0), None, Some(0.0), Some(1.0)], 3);
    assert_eq!(got[3], Some(0.5));
    // constant windows are exactly 0, also for values with no exact binary form
    assert!(var(&[Some(0.1); 50], 7)
        .iter()
        .skip(1)
        .all(|v| *v == Some(0.0)));
    // a large offset does not cost precision: var(1e9 + [1, 2, 3]) = 1
    let got = var(&[Some(1e9 + 1.0), Some(1e9 + 2.0), Some(1e9 + 3.0)], 3);
    assert_eq!(got[2], Some(1.0));
    // values whose squares would overflow are scaled: the standard deviation is exact, the
    // variance (2e400) is beyond a double
    let big = [Some(1e200), Some(3e200)];
    assert_eq!(var(&big, 2)[1], Some(f64::INFINITY));
    let std = floats(&rolling_array(RollingKind::Std, &f(&big), 2, 1).unwrap());
    assert!((std[1].unwrap() / (2f64.sqrt() * 1e200) - 1.0).abs() < 1e-15);
}

#[test]
fn reference_examples() {
    let v: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30, 40]));
    let sum = rolling_array(RollingKind::Sum, &v, 2, 1).unwrap();
    assert_eq!(
        sum.as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec(),
        vec![10, 30, 50, 70]
    );
    let mean = rolling_array(RollingKind::Avg, &v, 3, 1).unwrap();
    assert_eq!(
        floats(&mean),
        vec![Some(10.0), Some(15.0), Some(20.0), Some(30.0)]
    );
    let std = floats(&rolling_array(RollingKind::Std, &v, 3, 1).unwrap());
    assert_eq!(std[0], None);
    assert!((std[1].unwrap() - 7.0710678118654755).abs() < 1e-12);
    assert!((std[3].unwrap() - 10.0).abs() < 1e-12);
    let mx = rolling_array(RollingKind::Max, &v, 2, 2).unwrap();
    let mx: Vec<Option<i64>> = mx
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(mx, vec![None, Some(20), Some(30), Some(40)]);
}

#[test]
fn nulls_nan_and_infinities() {
    let x = f(&[
        Some(1.0),
        None,
        Some(f64::NAN),
        Some(2.0),
        Some(3.0),
        Some(f64::INFINITY),
        Some(1.0),
        Some(1.0),
    ]);
    let s = floats(&rolling_array(RollingKind::Sum, &x, 2, 1).unwrap());
    assert_eq!(s[0], Some(1.0));
    assert_eq!(s[1], Some(1.0));
    assert!(s[2].unwrap().is_nan() && s[3].unwrap().is_nan());
    assert_eq!(s[4], Some(5.0)); // the NaN has left the window
    assert_eq!(s[5], Some(f64::INFINITY));
    assert_eq!(s[7], Some(2.0));
    let c: Vec<Option<i64>> = rolling_array(RollingKind::Count, &x, 3, 3)
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .collect();
    // min_periods counts the window's rows (pandas' rule): NULL only for the two partial
    // windows; NaN is a value, NULL is not
    assert_eq!(
        c,
        vec![
            None,
            None,
            Some(2),
            Some(2),
            Some(3),
            Some(3),
            Some(3),
            Some(3)
        ]
    );
}

#[test]
fn long_windows_stay_exact() {
    let n = 100_000;
    let v: Vec<Option<f64>> = (0..n)
        .map(|i| Some(((i * 7919) % 1000) as f64 * 0.001 + 1e6))
        .collect();
    let got = floats(&rolling_array(RollingKind::Avg, &f(&v), 50, 1).unwrap());
    for i in [49, 5_000, n - 1] {
        let exact: f64 = v[i + 1 - 50..=i].iter().map(|x| x.unwrap()).sum::<f64>() / 50.0;
        assert!((got[i].unwrap() - exact).abs() < 1e-9, "{i}");
    }
    let var = floats(&rolling_array(RollingKind::Var, &f(&v), 50, 1).unwrap());
    let w = &v[n - 50..];
    let m = w.iter().map(|x| x.unwrap()).sum::<f64>() / 50.0;
    let exact = w.iter().map(|x| (x.unwrap() - m).powi(2)).sum::<f64>() / 49.0;
    assert!((var[n - 1].unwrap() - exact).abs() < 1e-9);
}

/// The sample variance of the non-NULL values, two-pass (the window's own rows only).
fn window_var(v: &[Option<f64>]) -> Option<f64> {
    let x: Vec<f64> = v.iter().flatten().copied().collect();
    (x.len() >= 2).then(|| {
        let m = x.iter().sum::<f64>() / x.len() as f64;
        x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64
    })
}

#[test]
fn an_outlier_leaves_no_trace_in_later_windows() {
    for outlier in [1e16, 1e18, 1e140, 1e200, 1e300, -1e250] {
        let v: Vec<Option<f64>> = (0..2000)
            .map(|i| {
                Some(if i == 10 {
                    outlier
                } else {
                    100.0 + ((i * 7919) % 997) as f64 / 997.0
                })
            })
            .collect();
        let w = 20;
        for kind in [RollingKind::Var, RollingKind::Std, RollingKind::Avg] {
            let got = floats(&rolling_array(kind, &f(&v), w, 1).unwrap());
            for i in (31..2000).step_by(37) {
                let win = &v[i + 1 - w..=i];
                let want = match kind {
                    RollingKind::Var => window_var(win).unwrap(),
                    RollingKind::Std => window_var(win).unwrap().sqrt(),
                    _ => win.iter().flatten().sum::<f64>() / w as f64,
                };
                let rel = (got[i].unwrap() - want).abs() / want.abs();
                assert!(
                    rel < 1e-12,
                    "{kind:?} outlier {outlier} row {i}: {got:?} vs {want}",
                    got = got[i]
                );
            }
        }
        // a full window holding the outlier: the standard deviation is about |outlier| / sqrt(w)
        let std = floats(&rolling_array(RollingKind::Std, &f(&v), w, 1).unwrap());
        let want = outlier.abs() / (w as f64).sqrt();
        assert!(
            (std[25].unwrap() / want - 1.0).abs() < 1e-6,
            "{outlier}: {:?}",
            std[25]
        );
    }
}

#[test]
fn overflow_stays_in_its_windows() {
    let mut v = vec![Some(1e308), Some(1e308)];
    v.extend((0..20).map(|i| {
        Some(if i % 2 == 0 {
            1.0
        } else {
            5.0 + (i % 4) as f64 / 4.0
        })
    }));
    let x = f(&v);
    let sum = floats(&rolling_array(RollingKind::Sum, &x, 2, 1).unwrap());
    assert_eq!(sum[1], Some(f64::INFINITY));
    assert_eq!(sum[2], Some(1e308 + 1.0));
    for i in 4..v.len() {
        assert_eq!(sum[i], Some(v[i - 1].unwrap() + v[i].unwrap()), "row {i}");
    }
    let avg = floats(&rolling_array(RollingKind::Avg, &x, 2, 1).unwrap());
    assert_eq!(avg[5], Some((v[4].unwrap() + v[5].unwrap()) / 2.0));
    let std = floats(&rolling_array(RollingKind::Std, &x, 2, 1).unwrap());
    for i in 4..v.len() {
        let want = window_var(&v[i - 1..=i]).unwrap().sqrt();
        assert!((std[i].unwrap() - want).abs() <= 1e-15 * want, "row {i}");
    }
    let cum = floats(
        &crate::cumulative::cumulative_array(crate::cumulative::CumulativeKind::Sum, &x).unwrap(),
    );
    assert!(
        cum[1..].iter().all(|c| *c == Some(f64::INFINITY)),
        "{cum:?}"
    );
}

#[test]
fn decimal_sums_beyond_38_digits_are_errors() {
    use datafusion::arrow::array::Decimal128Array;
    let max = 10i128.pow(38) - 1;
    let x: ArrayRef = Arc::new(
        Decimal128Array::from(vec![Some(max), Some(max), Some(-max)])
            .with_precision_and_scale(38, 2)
            .unwrap(),
    );
    let err = rolling_array(RollingKind::Sum, &x, 2, 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rolling_sum") && err.contains("DECIMAL(38, 2)"),
        "{err}"
    );
    let err = crate::cumulative::cumulative_array(crate::cumulative::CumulativeKind::Sum, &x)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cum_sum") && err.contains("overflows"),
        "{err}"
    );
    // sums within 38 digits are exact, also while an intermediate would not fit in 128 bits
    let ok: ArrayRef = Arc::new(
        Decimal128Array::from(vec![Some(max), Some(-max), Some(max), Some(-1)])
            .with_precision_and_scale(38, 2)
            .unwrap(),
    );
    let got = rolling_array(RollingKind::Sum, &ok, 2, 1).unwrap();
    let got: Vec<Option<i128>> = got
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(got, vec![Some(max), Some(0), Some(0), Some(max - 1)]);
}
