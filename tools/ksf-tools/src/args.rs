// SPDX-License-Identifier: GPL-2.0

//! A small command-line lexer for hand-rolled option parsing.
//!
//! It understands short options (`-a 4`, `-a4`, clusters like `-uH`), long
//! options (`--cpu 0-3`, `--cpu=0-3`), `--` (everything after it is
//! positional) and positional arguments. The caller decides which options
//! take a value by calling [`Parser::value`] or [`Parser::num`].
//!
//! ```
//! use ksf_tools::args::{Arg, Parser};
//! let mut p = Parser::new(["-uj4", "--len=64", "host"].map(String::from));
//! assert_eq!(p.next().unwrap(), Some(Arg::Short('u')));
//! assert_eq!(p.next().unwrap(), Some(Arg::Short('j')));
//! assert_eq!(p.num(1, 64).unwrap(), 4);
//! assert_eq!(p.next().unwrap(), Some(Arg::Long("len".into())));
//! assert_eq!(p.value().unwrap(), "64");
//! assert_eq!(p.next().unwrap(), Some(Arg::Positional("host".into())));
//! assert_eq!(p.next().unwrap(), None);
//! ```

use crate::num::parse_num_in;
use std::fmt;

/// One lexed command-line item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `-x`, alone or inside a cluster.
    Short(char),
    /// `--name` or `--name=value` (the value is fetched with `value()`).
    Long(String),
    /// Anything else, and everything after `--`.
    Positional(String),
}

/// A bad command line; tools print it and exit with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The lexer. See the module documentation.
pub struct Parser {
    args: std::vec::IntoIter<String>,
    /// Characters of the current short-option cluster, and the next index.
    cluster: Vec<char>,
    pos: usize,
    /// The `=value` part of the last long option, until it is taken.
    long_value: Option<String>,
    /// The last option as written (`-a`, `--cpu`), for messages.
    last: String,
    positional_only: bool,
}

impl Parser {
    /// A parser over `args`, which must not include the program name.
    pub fn new<I: IntoIterator<Item = String>>(args: I) -> Parser {
        Parser {
            args: args.into_iter().collect::<Vec<_>>().into_iter(),
            cluster: Vec::new(),
            pos: 0,
            long_value: None,
            last: String::new(),
            positional_only: false,
        }
    }

    /// A parser over the process arguments (without the program name).
    pub fn from_env() -> Parser {
        Parser::new(std::env::args().skip(1))
    }

    /// The next item, or `None` at the end. Fails if the previous long
    /// option had an `=value` that nobody took.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Arg>, UsageError> {
        if let Some(v) = self.long_value.take() {
            return Err(UsageError(format!(
                "option {} does not take a value (got '{v}')",
                self.last
            )));
        }
        if self.pos < self.cluster.len() {
            let c = self.cluster[self.pos];
            self.pos += 1;
            self.last = format!("-{c}");
            return Ok(Some(Arg::Short(c)));
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        if self.positional_only {
            return Ok(Some(Arg::Positional(arg)));
        }
        if arg == "--" {
            self.positional_only = true;
            return self.next();
        }
        if let Some(long) = arg.strip_prefix("--") {
            let name = match long.split_once('=') {
                Some((name, value)) => {
                    self.long_value = Some(value.to_string());
                    name
                }
                None => long,
            };
            self.last = format!("--{name}");
            return Ok(Some(Arg::Long(name.to_string())));
        }
        if arg.len() > 1 && arg.starts_with('-') {
            self.cluster = arg[1..].chars().collect();
            self.pos = 0;
            return self.next();
        }
        Ok(Some(Arg::Positional(arg)))
    }

    /// The value of the option just returned by [`next`](Self::next): the
    /// rest of its short cluster, its `=value`, or the next argument.
    pub fn value(&mut self) -> Result<String, UsageError> {
        if let Some(v) = self.long_value.take() {
            return Ok(v);
        }
        if self.pos < self.cluster.len() {
            let v = self.cluster[self.pos..].iter().collect();
            self.pos = self.cluster.len();
            return Ok(v);
        }
        self.args
            .next()
            .ok_or_else(|| UsageError(format!("option {} requires a value", self.last)))
    }

    /// The option's value as a number with suffixes (see
    /// [`parse_num`](crate::num::parse_num)) within `min..=max`.
    pub fn num(&mut self, min: u64, max: u64) -> Result<u64, UsageError> {
        let v = self.value()?;
        parse_num_in(&v, min, max).map_err(|e| self.error(e))
    }

    /// A usage error about the last option: `"-a: <what>"`.
    pub fn error(&self, what: impl fmt::Display) -> UsageError {
        UsageError(format!("{}: {what}", self.last))
    }

    /// The last option as written (`-a`, `--cpu`).
    pub fn last(&self) -> &str {
        &self.last
    }

    /// The error for an item the tool does not know.
    pub fn unexpected(&self, arg: &Arg) -> UsageError {
        UsageError(match arg {
            Arg::Short(c) => format!("unknown option -{c}"),
            Arg::Long(name) => format!("unknown option --{name}"),
            Arg::Positional(s) => format!("unexpected argument '{s}'"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(args: &[&str]) -> Parser {
        Parser::new(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn short_values_in_all_forms() {
        let mut p = parser(&["-a", "4", "-a8", "-ua16"]);
        assert_eq!(p.next(), Ok(Some(Arg::Short('a'))));
        assert_eq!(p.num(1, 1023), Ok(4));
        assert_eq!(p.next(), Ok(Some(Arg::Short('a'))));
        assert_eq!(p.num(1, 1023), Ok(8));
        assert_eq!(p.next(), Ok(Some(Arg::Short('u'))));
        assert_eq!(p.next(), Ok(Some(Arg::Short('a'))));
        assert_eq!(p.value(), Ok("16".to_string()));
        assert_eq!(p.next(), Ok(None));
    }

    #[test]
    fn long_options_and_separator() {
        let mut p = parser(&["--cpu=1,2", "--cpu", "3", "--help", "--", "-x", "y"]);
        assert_eq!(p.next(), Ok(Some(Arg::Long("cpu".into()))));
        assert_eq!(p.value(), Ok("1,2".to_string()));
        assert_eq!(p.next(), Ok(Some(Arg::Long("cpu".into()))));
        assert_eq!(p.value(), Ok("3".to_string()));
        assert_eq!(p.next(), Ok(Some(Arg::Long("help".into()))));
        assert_eq!(p.next(), Ok(Some(Arg::Positional("-x".into()))));
        assert_eq!(p.next(), Ok(Some(Arg::Positional("y".into()))));
        assert_eq!(p.next(), Ok(None));
    }

    #[test]
    fn errors_name_the_option() {
        let mut p = parser(&["-a"]);
        p.next().unwrap();
        assert_eq!(p.value().unwrap_err().0, "option -a requires a value");

        let mut p = parser(&["-a", "0"]);
        p.next().unwrap();
        assert_eq!(
            p.num(1, 1023).unwrap_err().0,
            "-a: 0 is out of range 1..1023"
        );

        let mut p = parser(&["-l", "1x"]);
        p.next().unwrap();
        assert!(p
            .num(1, 100)
            .unwrap_err()
            .0
            .starts_with("-l: invalid number '1x'"));

        let mut p = parser(&["--help=yes"]);
        p.next().unwrap();
        let e = p.next().unwrap_err();
        assert_eq!(e.0, "option --help does not take a value (got 'yes')");
    }

    #[test]
    fn unexpected_items() {
        let p = parser(&[]);
        assert_eq!(p.unexpected(&Arg::Short('z')).0, "unknown option -z");
        assert_eq!(
            p.unexpected(&Arg::Long("zz".into())).0,
            "unknown option --zz"
        );
        let e = p.unexpected(&Arg::Positional("a".into()));
        assert_eq!(e.0, "unexpected argument 'a'");
    }

    #[test]
    fn lone_dash_is_positional() {
        let mut p = parser(&["-"]);
        assert_eq!(p.next(), Ok(Some(Arg::Positional("-".into()))));
    }
}
