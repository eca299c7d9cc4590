// SPDX-License-Identifier: GPL-2.0

//! Medians, means and quantile labels for per-iteration summaries.

/// The median of `values` (the mean of the two middle values for an even
/// count), `None` if empty. NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The median of integers (the lower-rounded mean of the two middle
/// values for an even count), `None` if empty.
pub fn median_u64(values: &[u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        let (a, b) = (v[n / 2 - 1], v[n / 2]);
        a + (b - a) / 2
    })
}

/// The arithmetic mean, `None` if empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Per-iteration samples of one quantity, for "running median" columns
/// (the median of all iterations so far).
#[derive(Debug, Clone, Default)]
pub struct Samples {
    values: Vec<f64>,
}

impl Samples {
    /// No samples yet.
    pub fn new() -> Samples {
        Samples::default()
    }

    /// Adds one iteration's value.
    pub fn push(&mut self, v: f64) {
        self.values.push(v);
    }

    /// Median so far (0 if none).
    pub fn median(&self) -> f64 {
        median(&self.values).unwrap_or(0.0)
    }

    /// Mean so far (0 if none).
    pub fn mean(&self) -> f64 {
        mean(&self.values).unwrap_or(0.0)
    }

    /// All values in insertion order.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The column label of a percentile: `50` → `p50`, `99.7` → `p99.7`,
/// `.3` → `p0.3`.
pub fn quantile_label(p: f64) -> String {
    let mut s = format!("{p:.3}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    format!("p{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[1.0, f64::NAN, 2.0]), Some(2.0));
        assert_eq!(median_u64(&[]), None);
        assert_eq!(median_u64(&[9, 1, 5]), Some(5));
        assert_eq!(median_u64(&[1, 4]), Some(2));
        assert_eq!(median_u64(&[u64::MAX, u64::MAX - 2]), Some(u64::MAX - 1));
    }

    #[test]
    fn means_and_samples() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        let mut s = Samples::new();
        assert!(s.is_empty());
        assert_eq!(s.median(), 0.0);
        for v in [10.0, 1000.0, 20.0, 30.0] {
            s.push(v);
        }
        assert_eq!(s.len(), 4);
        assert_eq!(s.median(), 25.0);
        assert_eq!(s.mean(), 265.0);
        assert_eq!(s.values()[1], 1000.0);
    }

    #[test]
    fn labels() {
        assert_eq!(quantile_label(50.0), "p50");
        assert_eq!(quantile_label(99.7), "p99.7");
        assert_eq!(quantile_label(0.3), "p0.3");
        assert_eq!(quantile_label(99.99), "p99.99");
        assert_eq!(quantile_label(100.0), "p100");
        assert_eq!(quantile_label(0.0), "p0");
    }
}
