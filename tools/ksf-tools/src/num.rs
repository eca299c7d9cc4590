// SPDX-License-Identifier: GPL-2.0

//! Parsing of command-line values: counts with suffixes, CPU lists and
//! quantile lists.

use std::fmt;

/// The default quantile list of the load generators, in percent: the
/// median and the ±1σ, ±2σ and ±3σ points of a normal distribution.
pub const DEFAULT_QUANTILES: &str = ".3,4.6,31.7,50,68.3,95.4,99.7";

/// Why a number could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumError {
    /// The text was empty.
    Empty,
    /// Not digits followed by at most one known suffix.
    Invalid(String),
    /// The value does not fit in 64 bits.
    Overflow(String),
    /// Parsed, but outside the allowed range.
    OutOfRange { value: u64, min: u64, max: u64 },
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumError::Empty => write!(f, "empty number"),
            NumError::Invalid(s) => write!(
                f,
                "invalid number '{s}' (digits with an optional suffix: \
                 k/m/g = 2^10/2^20/2^30, K/M/G = 10^3/10^6/10^9)"
            ),
            NumError::Overflow(s) => write!(f, "number '{s}' is too large"),
            NumError::OutOfRange { value, min, max } if *max == u64::MAX => {
                write!(f, "{value} is too small (minimum {min})")
            }
            NumError::OutOfRange { value, min, max } => {
                write!(f, "{value} is out of range {min}..{max}")
            }
        }
    }
}

impl std::error::Error for NumError {}

/// Parses an unsigned decimal number with an optional one-letter suffix:
/// `k`, `m`, `g` multiply by 2^10, 2^20, 2^30; `K`, `M`, `G` by 10^3, 10^6,
/// 10^9. No sign, spaces, fraction or other base is accepted.
///
/// ```
/// use ksf_tools::num::parse_num;
/// assert_eq!(parse_num("100K"), Ok(100_000));
/// assert_eq!(parse_num("4k"), Ok(4096));
/// assert!(parse_num("1x").is_err());
/// ```
pub fn parse_num(s: &str) -> Result<u64, NumError> {
    let (digits, mult): (&str, u64) = match s.as_bytes().last() {
        None => return Err(NumError::Empty),
        Some(b'k') => (&s[..s.len() - 1], 1 << 10),
        Some(b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g') => (&s[..s.len() - 1], 1 << 30),
        Some(b'K') => (&s[..s.len() - 1], 1_000),
        Some(b'M') => (&s[..s.len() - 1], 1_000_000),
        Some(b'G') => (&s[..s.len() - 1], 1_000_000_000),
        Some(_) => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumError::Invalid(s.to_string()));
    }
    let overflow = || NumError::Overflow(s.to_string());
    let mut v: u64 = 0;
    for b in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    v.checked_mul(mult).ok_or_else(overflow)
}

/// [`parse_num`], then checks `min <= value <= max`.
pub fn parse_num_in(s: &str, min: u64, max: u64) -> Result<u64, NumError> {
    let value = parse_num(s)?;
    if value < min || value > max {
        return Err(NumError::OutOfRange { value, min, max });
    }
    Ok(value)
}

/// Highest CPU number accepted by [`parse_cpu_list`] (`CPU_SETSIZE - 1`).
pub const MAX_CPU: usize = crate::cpu::CPU_SETSIZE - 1;

/// Parses a CPU list such as `0-3,6,8-9` into CPU numbers, in the order
/// given (duplicates kept, so `0,0,1` places two jobs on CPU 0).
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for item in s.split(',') {
        let cpu = |t: &str| -> Result<usize, String> {
            let v = parse_num_in(t, 0, MAX_CPU as u64)
                .map_err(|e| format!("bad CPU '{t}' in list '{s}': {e}"))?;
            Ok(v as usize)
        };
        match item.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (cpu(lo)?, cpu(hi)?);
                if lo > hi {
                    return Err(format!("bad CPU range '{item}' in list '{s}'"));
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(cpu(item)?),
        }
    }
    Ok(cpus)
}

/// Parses a comma-separated list of quantiles given in percent (`.3`, `50`,
/// `99.9`), each within 0..=100, in the order given.
///
/// ```
/// use ksf_tools::num::{parse_quantiles, DEFAULT_QUANTILES};
/// assert_eq!(parse_quantiles(DEFAULT_QUANTILES).unwrap().len(), 7);
/// assert_eq!(parse_quantiles("50,99").unwrap(), vec![50.0, 99.0]);
/// ```
pub fn parse_quantiles(s: &str) -> Result<Vec<f64>, String> {
    s.split(',')
        .map(|item| {
            let ok = !item.is_empty()
                && item.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && item.bytes().any(|b| b.is_ascii_digit());
            match item.parse::<f64>() {
                Ok(v) if ok && (0.0..=100.0).contains(&v) => Ok(v),
                _ => Err(format!(
                    "bad quantile '{item}' in list '{s}' (percentages 0..100, e.g. {DEFAULT_QUANTILES})"
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_suffixed_numbers() {
        assert_eq!(parse_num("0"), Ok(0));
        assert_eq!(parse_num("007"), Ok(7));
        assert_eq!(parse_num("1k"), Ok(1024));
        assert_eq!(parse_num("3m"), Ok(3 << 20));
        assert_eq!(parse_num("2g"), Ok(2 << 30));
        assert_eq!(parse_num("1K"), Ok(1000));
        assert_eq!(parse_num("5M"), Ok(5_000_000));
        assert_eq!(parse_num("7G"), Ok(7_000_000_000));
        assert_eq!(parse_num("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn invalid_numbers() {
        assert_eq!(parse_num(""), Err(NumError::Empty));
        for bad in [
            "k", "1x", "-1", "+1", " 1", "1 ", "1.5", "0x10", "1kk", "1Ki", "k1",
        ] {
            assert_eq!(parse_num(bad), Err(NumError::Invalid(bad.into())), "{bad}");
        }
        let e = parse_num("1x").unwrap_err().to_string();
        assert!(e.contains("'1x'") && e.contains("k/m/g"), "{e}");
    }

    #[test]
    fn overflow() {
        assert!(matches!(
            parse_num("18446744073709551616"),
            Err(NumError::Overflow(_))
        ));
        assert!(matches!(
            parse_num("17179869184g"),
            Err(NumError::Overflow(_))
        ));
        assert!(matches!(
            parse_num("18446744073709552K"),
            Err(NumError::Overflow(_))
        ));
        assert_eq!(parse_num("17179869183g"), Ok(17179869183 << 30));
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_num_in("1023", 1, 1023), Ok(1023));
        assert_eq!(parse_num_in("1k", 1, 1024), Ok(1024));
        let e = parse_num_in("0", 1, 1023).unwrap_err();
        assert_eq!(
            e,
            NumError::OutOfRange {
                value: 0,
                min: 1,
                max: 1023
            }
        );
        assert_eq!(e.to_string(), "0 is out of range 1..1023");
        let e = parse_num_in("0", 1, u64::MAX).unwrap_err();
        assert_eq!(e.to_string(), "0 is too small (minimum 1)");
        assert!(parse_num_in("5000", 1, 1023).is_err());
        assert!(matches!(
            parse_num_in("1y", 1, 2),
            Err(NumError::Invalid(_))
        ));
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0"), Ok(vec![0]));
        assert_eq!(parse_cpu_list("0-3,6,8-9"), Ok(vec![0, 1, 2, 3, 6, 8, 9]));
        assert_eq!(parse_cpu_list("1,1"), Ok(vec![1, 1]));
        for bad in ["", "a", "1,", "3-1", "1-", "-1", "0-1024", "2000"] {
            assert!(parse_cpu_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quantile_lists() {
        let q = parse_quantiles(DEFAULT_QUANTILES).unwrap();
        assert_eq!(q, vec![0.3, 4.6, 31.7, 50.0, 68.3, 95.4, 99.7]);
        assert_eq!(parse_quantiles("0,100"), Ok(vec![0.0, 100.0]));
        for bad in [
            "", "50,", "101", "-1", "nan", "inf", "1e2", ".", "5 0", "50;99",
        ] {
            assert!(parse_quantiles(bad).is_err(), "{bad}");
        }
        assert!(parse_quantiles("101").unwrap_err().contains("'101'"));
    }
}
