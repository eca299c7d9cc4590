// SPDX-License-Identifier: GPL-2.0

//! Test cases that run both on the host and in the kernel.
//!
//! A case is a plain function taking a [`Tester`]. On the host, `cargo test`
//! runs each case as its own `#[test]`; in the guest, the KUnit glue in
//! `rust/ksf/kunit.rs` turns a [`Case`] table into a KUnit suite. The
//! [`check!`] and [`check_eq!`] macros report a failure through the tester
//! and return from the case.

use core::fmt;

/// Where a test case reports a failed check.
pub trait Tester {
    /// Records a failure at `file_z` (the source path followed by a NUL
    /// byte, so that it can be handed to C as is) and `line`.
    fn fail(&mut self, file_z: &'static str, line: u32, msg: fmt::Arguments<'_>);
}

/// One test case: its name (NUL terminated) and its body.
#[derive(Clone, Copy)]
pub struct Case {
    /// The case name followed by a NUL byte.
    pub name_z: &'static str,
    /// The body.
    pub run: fn(&mut dyn Tester),
    /// Takes over a second (KUnit's "slow" speed attribute).
    pub slow: bool,
}

impl Case {
    /// The name without its terminating NUL.
    pub fn name(&self) -> &'static str {
        self.name_z.strip_suffix('\0').unwrap_or(self.name_z)
    }
}

/// Fails the case and returns from it unless `$cond` holds.
#[macro_export]
macro_rules! check {
    ($t:expr, $cond:expr $(,)?) => {
        if !$cond {
            $t.fail(
                concat!(file!(), "\0"),
                line!(),
                format_args!("expected `{}` to be true", stringify!($cond)),
            );
            return;
        }
    };
}

/// Fails the case and returns from it unless `$left == $right`.
#[macro_export]
macro_rules! check_eq {
    ($t:expr, $left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (l, r) => {
                if *l != *r {
                    $t.fail(
                        concat!(file!(), "\0"),
                        line!(),
                        format_args!(
                            "expected `{}` == `{}`\n  left: {:?}\n right: {:?}",
                            stringify!($left),
                            stringify!($right),
                            l,
                            r
                        ),
                    );
                    return;
                }
            }
        }
    };
}

/// Whether a case's markers (`#[slow]` before its `fn` in
/// [`test_cases!`]) say it takes over a second; any other marker fails
/// the build.
pub const fn marked_slow(markers: &[&str]) -> bool {
    let mut slow = false;
    let mut i = 0;
    while i < markers.len() {
        let m = markers[i].as_bytes();
        if m.len() == 4 && m[0] == b's' && m[1] == b'l' && m[2] == b'o' && m[3] == b'w' {
            slow = true;
        } else {
            panic!("unknown test case marker (only #[slow] is known)");
        }
        i += 1;
    }
    slow
}

/// Defines test cases once, for both sides.
///
/// The first line names this module (`testing`) by a path from the calling
/// module, so the cases work wherever the tree is mounted. Expands to one
/// `pub fn` per case, a `pub static CASES: &[Case]` table for the kernel,
/// and (under `cfg(test)`) a `#[test]` per case for the host. `#[slow]`
/// before a case's `fn` marks a case that takes over a second (KUnit's
/// speed attribute, so that it does not ask to be marked slow).
#[macro_export]
macro_rules! test_cases {
    (testing = $($seg:ident)::+; $($(#[$attr:ident])* fn $name:ident($t:ident) $body:block)*) => {
        use $($seg)::+ as __testing;

        $(
            #[allow(missing_docs)]
            pub fn $name($t: &mut dyn __testing::Tester) $body
        )*

        /// Every case of this module, in definition order.
        pub const CASES: &[__testing::Case] = &[
            $(__testing::Case {
                name_z: concat!(stringify!($name), "\0"),
                run: $name,
                slow: __testing::marked_slow(&[$(stringify!($attr)),*]),
            },)*
        ];

        #[cfg(test)]
        mod host {
            $(
                #[test]
                fn $name() {
                    super::__testing::host::run(super::$name);
                }
            )*
        }
    };
}

/// The host side: a tester that panics with the location on failure.
#[cfg(test)]
pub mod host {
    extern crate std;
    use super::Tester;
    use core::fmt;

    struct Panicking;

    impl Tester for Panicking {
        fn fail(&mut self, file_z: &'static str, line: u32, msg: fmt::Arguments<'_>) {
            let file = file_z.strip_suffix('\0').unwrap_or(file_z);
            panic!("check failed at {file}:{line}: {msg}");
        }
    }

    /// Runs one case; a failed check panics, failing the `#[test]`.
    pub fn run(case: fn(&mut dyn Tester)) {
        case(&mut Panicking);
    }
}
