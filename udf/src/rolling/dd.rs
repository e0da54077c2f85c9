//! Double-double arithmetic (about 106 significant bits) for exact-enough window sums.

/// A double-double number: `hi + lo` with `|lo| <= ulp(hi) / 2`, about 106 significant bits.
#[derive(Clone, Copy, Default)]
pub(super) struct Dd {
    pub(super) hi: f64,
    pub(super) lo: f64,
}

#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bp = s - a;
    (s, (a - (s - bp)) + (b - bp))
}

#[inline]
fn quick_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd {
        hi: s,
        lo: b - (s - a),
    }
}

/// Dekker's exact product (no FMA needed): `a * b = p + e` exactly.
#[inline]
pub(super) fn two_prod(a: f64, b: f64) -> (f64, f64) {
    const SPLIT: f64 = 134_217_729.0; // 2^27 + 1
    let split = |v: f64| {
        let t = SPLIT * v;
        let hi = t - (t - v);
        (hi, v - hi)
    };
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    /// `self + v + e` for a double `v` and a small correction `e` (running sums). A sum that
    /// is not finite (an infinity or NaN added, or an overflow) is the IEEE sum of the leading
    /// parts, without a correction (which would be NaN).
    #[inline]
    pub(super) fn add_f64(self, v: f64, e: f64) -> Dd {
        let (s, t) = two_sum(self.hi, v);
        if !s.is_finite() {
            return Dd { hi: s, lo: 0.0 };
        }
        quick_two_sum(s, t + (self.lo + e))
    }

    /// `self + o`, accurate to about 2^-104 of the larger operand.
    #[inline]
    pub(super) fn add(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, o.hi);
        if !s.is_finite() {
            return Dd { hi: s, lo: 0.0 };
        }
        quick_two_sum(s, e + (self.lo + o.lo))
    }

    /// `self - o`, accurate to about 2^-104 of the larger operand.
    #[inline]
    pub(super) fn sub(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, -o.hi);
        quick_two_sum(s, e + (self.lo - o.lo))
    }

    #[inline]
    pub(super) fn mul(self, o: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, o.hi);
        quick_two_sum(p, e + (self.hi * o.lo + self.lo * o.hi))
    }

    #[inline]
    pub(super) fn mul_f64(self, b: f64) -> Dd {
        let (p, e) = two_prod(self.hi, b);
        quick_two_sum(p, e + self.lo * b)
    }
}
