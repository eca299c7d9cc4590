// SPDX-License-Identifier: GPL-2.0

//! KUnit suites for out-of-tree Rust modules on Linux 6.12.
//!
//! Linux 6.12 has no Rust macros for KUnit suites and cases (they arrived
//! in 6.15), but the module loader already runs every `struct kunit_suite`
//! whose address it finds in a module's `.kunit_test_suites` section, right
//! after the module's init. [`ksf_kunit_suites!`] builds those C structures
//! at compile time from the shared test cases of [`crate::ksf::proto::testing`]:
//!
//! ```ignore
//! ksf_kunit_suites! {
//!     "ksf_record_marking" => ksf::proto::rm::cases::CASES,
//! }
//! ```
//!
//! Results are printed as KTAP at `KERN_INFO` (read them with `dmesg`); a
//! failed check becomes a KUnit expectation failure with its file and line.
//! This file is only compiled into test modules (`--cfg KSF_KUNIT`).

use core::ffi::{c_int, c_void, CStr};
use core::fmt;

use kernel::bindings;

use crate::ksf::proto::testing::{Case, Tester};

/// A suite's cases, seen by the case trampoline.
pub trait Suite {
    /// The cases, in the order KUnit runs them.
    const CASES: &'static [Case];
}

/// A pointer to a suite, as the loader expects it in `.kunit_test_suites`.
#[repr(transparent)]
pub struct SuitePtr(pub *mut bindings::kunit_suite);

// SAFETY: The pointer is only read, by the KUnit executor, which runs the
// suites of a module one at a time.
unsafe impl Sync for SuitePtr {}

/// Builds the `kunit_case` table of `S`, terminated by an all-zero entry.
///
/// `N` must be `S::CASES.len() + 1`; a wrong `N` fails the build.
pub const fn case_table<S: Suite, const N: usize>() -> [bindings::kunit_case; N] {
    assert!(N == S::CASES.len() + 1);
    // SAFETY: `kunit_case` is a C struct of pointers, optional function
    // pointers and integers, for all of which zero is valid; an all-zero
    // entry is also the table's terminator.
    let mut table: [bindings::kunit_case; N] = unsafe { core::mem::zeroed() };
    let mut i = 0;
    while i < S::CASES.len() {
        table[i].run_case = Some(run_case::<S>);
        table[i].name = S::CASES[i].name_z.as_ptr();
        if S::CASES[i].slow {
            table[i].attr.speed = bindings::kunit_speed_KUNIT_SPEED_SLOW;
        }
        i += 1;
    }
    table
}

/// Builds a `kunit_suite` named `name` over the table at `cases`.
pub const fn suite(name: &str, cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    let name = name.as_bytes();
    // KUnit needs a NUL after the name in its 256-byte array.
    assert!(name.len() < 256);
    // SAFETY: As for `kunit_case`: zero is valid for every field.
    let mut suite: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let mut i = 0;
    while i < name.len() {
        suite.name[i] = name[i];
        i += 1;
    }
    suite.test_cases = cases;
    suite
}

/// Reports failed checks to the KUnit test being run.
struct KunitTester {
    test: *mut bindings::kunit,
}

impl Tester for KunitTester {
    fn fail(&mut self, file_z: &'static str, line: u32, msg: fmt::Arguments<'_>) {
        let loc = bindings::kunit_loc {
            line: line as c_int,
            file: file_z.as_ptr(),
        };
        let assert = bindings::kunit_fail_assert {
            assert: bindings::kunit_assert {},
        };
        // SAFETY: `self.test` is the live test KUnit passed to `run_case`;
        // `loc.file` is NUL terminated (a `Tester` contract); `loc`,
        // `assert` and `msg` outlive the call, which formats the message
        // before returning. `%pA` takes a `fmt::Arguments`. An expectation
        // (unlike an assertion) does not abort the test thread.
        unsafe {
            bindings::__kunit_do_failed_assertion(
                self.test,
                &loc,
                bindings::kunit_assert_type_KUNIT_EXPECTATION,
                &assert.assert,
                Some(bindings::kunit_fail_assert_format),
                c"%pA".as_ptr().cast(),
                &msg as *const fmt::Arguments<'_> as *const c_void,
            );
        }
    }
}

/// The `run_case` of every case of `S`: finds the case by the name KUnit
/// set on the test and runs it.
///
/// # Safety
///
/// `test` must be a valid `struct kunit` whose `name` is a NUL-terminated
/// string; KUnit guarantees both when it calls a case.
unsafe extern "C" fn run_case<S: Suite>(test: *mut bindings::kunit) {
    // SAFETY: Valid per this function's contract.
    let name = unsafe { CStr::from_ptr((*test).name.cast()) };
    let mut tester = KunitTester { test };
    match S::CASES
        .iter()
        .find(|c| c.name().as_bytes() == name.to_bytes())
    {
        Some(case) => (case.run)(&mut tester),
        None => tester.fail(
            concat!(file!(), "\0"),
            line!(),
            format_args!("no case named {:?} in this suite", name),
        ),
    }
}

/// Registers KUnit suites of shared test cases with the module loader.
///
/// Each entry is a suite name and a `&'static [Case]` constant (what
/// `test_cases!` defines as `CASES`). The suites run when the module loads.
#[macro_export]
macro_rules! ksf_kunit_suites {
    ($($name:literal => $cases:path),+ $(,)?) => {
        $(
            const _: () = {
                use $crate::ksf::kunit as __k;
                use ::kernel::bindings as __b;

                struct __Suite;
                impl __k::Suite for __Suite {
                    const CASES: &'static [$crate::ksf::proto::testing::Case] = $cases;
                }

                const __N: usize = $cases.len() + 1;
                static mut __CASES: [__b::kunit_case; __N] = __k::case_table::<__Suite, __N>();
                static mut __SUITE: __b::kunit_suite =
                    __k::suite($name, ::core::ptr::addr_of_mut!(__CASES) as *mut __b::kunit_case);
                #[used]
                #[link_section = ".kunit_test_suites"]
                static __PTR: __k::SuitePtr = __k::SuitePtr(::core::ptr::addr_of_mut!(__SUITE));
            };
        )+
    };
}
