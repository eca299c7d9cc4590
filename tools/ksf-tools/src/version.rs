// SPDX-License-Identifier: GPL-2.0

//! What `--version` prints: the tool, its version and the git revision it
//! was built from (see `build.rs`).

/// The git revision of the build: a 12-digit short hash, `-dirty` if the
/// tree had changes, or `unknown`.
pub const GIT_REV: &str = env!("KSF_GIT_REV");

/// The `--version` line of `tool` at crate version `version`:
/// `"echotest 0.1.0 (git 0123456789ab)"`. Call it with
/// `env!("CARGO_PKG_NAME")` and `env!("CARGO_PKG_VERSION")`.
pub fn line(tool: &str, version: &str) -> String {
    format!("{tool} {version} (git {GIT_REV})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tool_version_and_revision() {
        let l = line("t", "1.2.3");
        assert!(l.starts_with("t 1.2.3 (git "), "{l}");
        let rev = l.trim_start_matches("t 1.2.3 (git ").trim_end_matches(')');
        let hash = rev.trim_end_matches("-dirty");
        assert!(
            rev == "unknown" || (hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit())),
            "{l}"
        );
    }
}
