// SPDX-License-Identifier: GPL-2.0

//! The module's parameters, declared in C (see `params.h`), read by name.

use core::ffi::CStr;

use kernel::ffi::c_char;

#[repr(C)]
struct RawParam {
    name: *const c_char,
    value: *const i32,
    str: *const *const c_char,
    ulong: *const core::ffi::c_ulong,
}

extern "C" {
    /// The NULL-terminated table of the module's `params.c` (or the empty
    /// weak one of `helpers.c`).
    static ksf_params: [RawParam; 0];
}

/// The entry of parameter `name`.
fn find(name: &str) -> Option<&'static RawParam> {
    // SAFETY: `ksf_params` is a static table ending with a NULL entry,
    // whose names are string literals; it lives as long as the module.
    unsafe {
        let mut p = core::ptr::addr_of!(ksf_params) as *const RawParam;
        while !(*p).name.is_null() {
            if CStr::from_ptr((*p).name.cast()).to_bytes() == name.as_bytes() {
                return Some(&*p);
            }
            p = p.add(1);
        }
    }
    None
}

/// The value of integer parameter `name`, or `None` if the module has no
/// such parameter.
pub fn int(name: &str) -> Option<i32> {
    let p = find(name)?;
    if p.value.is_null() {
        return None;
    }
    // SAFETY: `value` points to the module's parameter variable, which
    // lives as long as the module; parameters are read only (0444) once
    // the module is loaded.
    Some(unsafe { core::ptr::read_volatile(p.value) })
}

/// The value of string parameter `name`, or `None` if the module has no
/// such parameter (or it was set to NULL, which `charp` does not do).
pub fn str(name: &str) -> Option<&'static CStr> {
    let p = find(name)?;
    if p.str.is_null() {
        return None;
    }
    // SAFETY: `str` points to the module's `char *` parameter variable,
    // read only (0444) once the module is loaded; it points to a
    // NUL-terminated string (the default literal, or the copy `param_set_charp`
    // made at load) that lives until the module is unloaded.
    unsafe {
        let s = core::ptr::read_volatile(p.str);
        (!s.is_null()).then(|| CStr::from_ptr(s.cast()))
    }
}

/// The value of unsigned long parameter `name`, or `None` if the module
/// has no such parameter.
pub fn ulong(name: &str) -> Option<u64> {
    let p = find(name)?;
    if p.ulong.is_null() {
        return None;
    }
    // SAFETY: As for `int`: the module's parameter variable, read only.
    Some(unsafe { core::ptr::read_volatile(p.ulong) } as u64)
}
