// SPDX-License-Identifier: GPL-2.0

//! The module's parameters, declared in C (see `params.h`), read by name.

use core::ffi::CStr;

use kernel::ffi::c_char;

#[repr(C)]
struct RawParam {
    name: *const c_char,
    value: *const i32,
}

extern "C" {
    /// The NULL-terminated table of the module's `params.c` (or the empty
    /// weak one of `helpers.c`).
    static ksf_params: [RawParam; 0];
}

/// The value of integer parameter `name`, or `None` if the module has no
/// such parameter.
pub fn int(name: &str) -> Option<i32> {
    // SAFETY: `ksf_params` is a static table ending with a NULL entry,
    // whose names are string literals and whose values point to the
    // module's parameter variables, which live as long as the module.
    // Parameters are read only (0444) once the module is loaded.
    unsafe {
        let mut p = core::ptr::addr_of!(ksf_params) as *const RawParam;
        while !(*p).name.is_null() {
            if CStr::from_ptr((*p).name.cast()).to_bytes() == name.as_bytes() {
                return Some(core::ptr::read_volatile((*p).value));
            }
            p = p.add(1);
        }
    }
    None
}
