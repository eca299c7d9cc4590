// SPDX-License-Identifier: GPL-2.0

//! `--check-cmd`: a shell command run at every good-client check (say,
//! `rpcinfo` against the server, or a look at the guest's console); a
//! nonzero exit is a finding. `--stall-cmd`: a shell command run when a
//! connection stalls, whose output goes into the finding (say, the
//! server's socket queues).

use rustix::process::{kill_process_group, Pid, Signal};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The last lines of a command's output kept in a message.
const TAIL_LINES: usize = 5;

/// Runs `sh -c cmd`, killing it after `timeout`; its combined output on
/// failure.
pub fn run(cmd: &str, timeout: Duration) -> Result<(), String> {
    let (status, lines) = capture(cmd, &[], timeout)?;
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join(" | ");
    match status {
        Some(st) if st.success() => Ok(()),
        Some(st) => Err(format!("check command '{cmd}' failed ({st}): {tail}")),
        None => Err(format!(
            "check command '{cmd}' did not finish within {} s: {tail}",
            timeout.as_secs()
        )),
    }
}

/// Runs `sh -c cmd` with `env` added, killing it after `timeout`; its
/// output (stdout, then stderr), at most `max_lines` lines, for a report.
pub fn report(cmd: &str, env: &[(&str, String)], timeout: Duration, max_lines: usize) -> String {
    match capture(cmd, env, timeout) {
        Err(e) => e,
        Ok((status, lines)) => {
            let mut out = lines[..lines.len().min(max_lines)].join("\n");
            match status {
                Some(st) if st.success() => {}
                Some(st) => out.push_str(&format!("\n({st})")),
                None => out.push_str(&format!("\n(killed after {} s)", timeout.as_secs())),
            }
            out
        }
    }
}

/// Runs `sh -c cmd` with `env` added, killing it after `timeout`: its exit
/// status (`None` if killed) and its non-blank output lines.
fn capture(
    cmd: &str,
    env: &[(&str, String)],
    timeout: Duration,
) -> Result<(Option<std::process::ExitStatus>, Vec<String>), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("command '{cmd}': cannot run sh: {e}"))?;
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut r| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    })
    .collect();
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() < timeout => thread::sleep(Duration::from_millis(10)),
            _ => {
                // The whole group: sh may have started children that
                // hold the output pipes open.
                if let Some(group) = Pid::from_raw(child.id() as i32) {
                    let _ = kill_process_group(group, Signal::KILL);
                }
                let _ = child.wait();
                break None;
            }
        }
    };
    let out: Vec<u8> = readers
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect();
    let text = String::from_utf8_lossy(&out);
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    Ok((status, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_output() {
        let t = Duration::from_secs(10);
        assert_eq!(run("true", t), Ok(()));
        let e = run("echo one; echo two >&2; exit 3", t).unwrap_err();
        assert!(e.contains("exit status: 3"), "{e}");
        assert!(e.contains("one") && e.contains("two"), "{e}");
        let e = run("sleep 5", Duration::from_millis(100)).unwrap_err();
        assert!(e.contains("did not finish"), "{e}");
    }

    #[test]
    fn reports() {
        let t = Duration::from_secs(10);
        let env = [("KSF_X", "42".to_string())];
        assert_eq!(report("echo $KSF_X; echo b; echo c", &env, t, 2), "42\nb");
        assert_eq!(report("echo a; exit 1", &[], t, 5), "a\n(exit status: 1)");
        let r = report("sleep 5", &[], Duration::from_millis(100), 5);
        assert!(r.contains("killed after"), "{r}");
    }
}
