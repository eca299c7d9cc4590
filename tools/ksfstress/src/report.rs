// SPDX-License-Identifier: GPL-2.0

//! The outcome of a run: findings and errors on stderr as they happen, one
//! `key=value` summary line on stdout at the end, and the exit status.

use std::fmt::Display;

/// A run's report.
pub struct Report {
    sub: &'static str,
    pairs: Vec<(&'static str, String)>,
    errors: u64,
}

impl Report {
    pub fn new(sub: &'static str) -> Report {
        Report {
            sub,
            pairs: Vec::new(),
            errors: 0,
        }
    }

    /// Adds `key=value` to the summary (a space in a value becomes `_`).
    pub fn kv(&mut self, key: &'static str, value: impl Display) -> &mut Report {
        self.pairs.push((key, value.to_string().replace(' ', "_")));
        self
    }

    /// The server misbehaved.
    pub fn finding(&mut self, msg: &str) {
        eprintln!("ksfstress {}: finding: {msg}", self.sub);
        self.errors += 1;
    }

    /// Findings counted elsewhere, and the messages kept for them.
    pub fn findings(&mut self, count: u64, messages: &[String]) {
        for m in messages {
            eprintln!("ksfstress {}: finding: {m}", self.sub);
        }
        if count > messages.len() as u64 {
            let more = count - messages.len() as u64;
            eprintln!(
                "ksfstress {}: ... {more} more finding(s) not shown",
                self.sub
            );
        }
        self.errors += count;
    }

    /// The run could not be done as asked (not the server's fault).
    pub fn error(&mut self, msg: &str) {
        eprintln!("ksfstress {}: error: {msg}", self.sub);
        self.errors += 1;
    }

    /// A progress line on stderr.
    pub fn progress(&self, msg: &str) {
        eprintln!("ksfstress {}: {msg}", self.sub);
    }

    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The summary line.
    pub fn line(&self) -> String {
        let mut s = format!("ksfstress {}:", self.sub);
        for (k, v) in &self.pairs {
            s += &format!(" {k}={v}");
        }
        s + &format!(" errors={}", self.errors)
    }

    /// Prints the summary; the exit status (1 if anything went wrong).
    pub fn finish(&self) -> i32 {
        println!("{}", self.line());
        i32::from(self.errors > 0)
    }
}

/// `n` per second over `secs`, with one decimal.
pub fn rate(n: u64, secs: f64) -> String {
    if secs <= 0.0 {
        return "0".into();
    }
    format!("{:.1}", n as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line() {
        let mut r = Report::new("fuzz");
        r.kv("proto", "rpc").kv("seed", 7).kv("what", "a b");
        assert_eq!(
            r.line(),
            "ksfstress fuzz: proto=rpc seed=7 what=a_b errors=0"
        );
        r.findings(3, &["x".into()]);
        assert_eq!(r.errors(), 3);
        assert_eq!(rate(10, 4.0), "2.5");
        assert_eq!(rate(10, 0.0), "0");
    }
}
