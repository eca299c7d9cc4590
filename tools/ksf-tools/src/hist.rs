// SPDX-License-Identifier: GPL-2.0

//! A log-linear latency histogram in the style of HdrHistogram.
//!
//! Values (nanoseconds, any `u64`) below 256 are counted exactly. Above,
//! every power-of-two range `[2^e, 2^(e+1))` is split into 128 equal
//! buckets, so a bucket is at most 1/128 of its lower bound wide and a
//! reported quantile (the bucket's midpoint) is within 0.4% of a recorded
//! value. Minimum, maximum, count and sum are exact. Histograms of the same
//! kind merge by adding counts, so each thread records into its own and the
//! reporter merges them.

/// Bits of linear resolution per power of two.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets needed for the whole `u64` range.
const BUCKETS: usize = ((64 - SUB_BITS + 1) as usize) * SUB as usize;

/// See the module documentation.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64]>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("min", &self.min())
            .field("max", &self.max)
            .finish()
    }
}

/// The bucket index of `v`.
fn index(v: u64) -> usize {
    if v < 2 * SUB {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    (u64::from(shift) * SUB + (v >> shift)) as usize
}

/// The lowest and highest value of bucket `i`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < 2 * SUB {
        return (i, i);
    }
    let shift = i / SUB - 1;
    let mant = i - shift * SUB;
    let lo = mant << shift;
    (lo, lo + ((1u64 << shift) - 1))
}

impl Histogram {
    /// An empty histogram (about 58 KiB of counters).
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Records `n` occurrences of `v`.
    #[inline]
    pub fn record_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.counts[index(v)] += n;
        self.count += n;
        self.sum += u128::from(v) * u128::from(n);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Adds all of `other`'s values to this histogram.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Forgets all values.
    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.count = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Smallest value recorded (exact), 0 if empty.
    pub fn min(&self) -> u64 {
        if self.count == 0 {
            0
        } else {
            self.min
        }
    }

    /// Largest value recorded (exact), 0 if empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Exact arithmetic mean, 0 if empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The value at quantile `q` (0.0..=1.0): the smallest bucket holding
    /// at least `ceil(q * count)` values, reported as its midpoint clamped
    /// to the exact min and max. `q <= 0` gives the min, `q >= 1` the max;
    /// an empty histogram gives 0.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        if q <= 0.0 {
            return self.min;
        }
        if q >= 1.0 {
            return self.max;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bounds(i);
                return (lo + (hi - lo) / 2).clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// [`quantile`](Self::quantile) with `p` in percent (0.0..=100.0).
    pub fn percentile(&self, p: f64) -> u64 {
        self.quantile(p / 100.0)
    }

    /// The median (50th percentile).
    pub fn median(&self) -> u64 {
        self.quantile(0.5)
    }

    /// The non-empty buckets as `(lowest value, highest value, count)`, in
    /// increasing order (for writing histogram data files).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c != 0)
            .map(|(i, &c)| {
                let (lo, hi) = bounds(i);
                (lo, hi, c)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_range() {
        let mut next = 0u64;
        for i in 0..BUCKETS {
            let (lo, hi) = bounds(i);
            assert_eq!(lo, next, "bucket {i}");
            assert!(hi >= lo);
            assert_eq!(index(lo), i);
            assert_eq!(index(hi), i);
            if i >= 2 * SUB as usize {
                assert!((hi - lo + 1) * SUB <= lo, "bucket {i} too wide");
            }
            next = hi.wrapping_add(1);
        }
        assert_eq!(next, 0, "last bucket ends at u64::MAX");
        assert_eq!(index(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new();
        for v in 0..256 {
            h.record(v);
        }
        assert_eq!(h.count(), 256);
        assert_eq!(h.min(), 0);
        assert_eq!(h.max(), 255);
        assert_eq!(h.quantile(0.5), 127);
        assert_eq!(h.percentile(100.0), 255);
        assert_eq!(h.quantile(1.0 / 256.0), 0);
        assert_eq!(h.mean(), 127.5);
    }

    #[test]
    fn relative_precision_below_half_percent() {
        let mut v: u64 = 1;
        while v < u64::MAX / 3 {
            let mut h = Histogram::new();
            h.record(v);
            h.record(v * 3); // so that the quantile is not clamped to v
            let got = h.quantile(0.5);
            let err = (got as f64 - v as f64).abs() / v as f64;
            assert!(err <= 0.004, "v={v} got={got} err={err}");
            v += v / 3 + 1;
        }
    }

    #[test]
    fn quantiles_of_a_uniform_distribution() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1000); // 1 us .. 100 ms in ns
        }
        for p in [0.3, 4.6, 31.7, 50.0, 68.3, 95.4, 99.0, 99.7] {
            let want = p * 1000.0 * 1000.0;
            let got = h.percentile(p) as f64;
            assert!((got - want).abs() / want < 0.005, "p{p}: {got} vs {want}");
        }
        assert_eq!(h.quantile(0.0), 1000);
        assert_eq!(h.quantile(1.0), 100_000_000);
        assert_eq!(h.min(), 1000);
        assert_eq!(h.max(), 100_000_000);
        assert!((h.mean() - 50_000_500.0).abs() < 1e-6);
    }

    #[test]
    fn merge_equals_recording_everything() {
        let mut all = Histogram::new();
        let mut parts = [Histogram::new(), Histogram::new(), Histogram::new()];
        let mut x: u64 = 12345;
        for i in 0..30_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = x % 10_000_000;
            all.record(v);
            parts[i % 3].record(v);
        }
        let mut merged = Histogram::new();
        merged.merge(&Histogram::new());
        for p in &parts {
            merged.merge(p);
        }
        assert_eq!(merged.count(), all.count());
        assert_eq!(merged.min(), all.min());
        assert_eq!(merged.max(), all.max());
        assert_eq!(merged.mean(), all.mean());
        for q in [0.001, 0.25, 0.5, 0.75, 0.99, 0.999] {
            assert_eq!(merged.quantile(q), all.quantile(q));
        }
        assert!(merged.buckets().eq(all.buckets()));
    }

    #[test]
    fn empty_reset_and_record_n() {
        let mut h = Histogram::new();
        assert!(h.is_empty());
        assert_eq!((h.min(), h.max(), h.median(), h.mean()), (0, 0, 0, 0.0));
        h.record_n(5000, 3);
        h.record_n(7, 0);
        h.record(1_000_000);
        assert_eq!(h.count(), 4);
        assert_eq!(h.median(), 5000 - 5000 % 32 + 15);
        assert_eq!(h.buckets().map(|b| b.2).sum::<u64>(), 4);
        h.reset();
        assert!(h.is_empty());
        assert_eq!(h.buckets().count(), 0);
    }
}
