// SPDX-License-Identifier: GPL-2.0

//! The fuzzer's traffic generators: RPC ([`rpc`], from [`call`] and
//! [`marks`]), checked against the model, and [`echo`].

pub mod call;
pub mod echo;
pub mod marks;
pub mod nfs3;
pub mod rpc;

#[cfg(test)]
pub use tests::outcome;

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use ksf_proto::rpc::{AcceptStat, RejectStat, ReplyKind};

    /// What the model says the server does with `stream` (its first
    /// record), in a word.
    pub fn outcome(model: &Model, stream: &[u8]) -> &'static str {
        let e = model.expect(stream);
        if e.closes.is_some() {
            return "close";
        }
        match e.replies.first().map(|r| r.kind) {
            None => "wait",
            Some(ReplyKind::Accepted { stat, .. }) => match stat {
                AcceptStat::Success { .. } => "success",
                AcceptStat::ProgUnavail => "prog-unavail",
                AcceptStat::ProgMismatch { .. } => "prog-mismatch",
                AcceptStat::ProcUnavail => "proc-unavail",
                _ => "other",
            },
            Some(ReplyKind::Denied(RejectStat::RpcMismatch { .. })) => "rpc-mismatch",
            Some(ReplyKind::Denied(RejectStat::AuthError(_))) => "auth-error",
        }
    }
}
