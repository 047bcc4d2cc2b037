//! Fault injection: what a fault does, which requests it hits, and how it is armed.

use crate::*;

/// A fault for the next `count` matching requests.
///
/// To spread a fault over a run (every Nth matching request) use [`Fault::every`], which
/// makes a [`SpreadFault`]; the JSON API and `--fault` take both in one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// `None` = any API route; else e.g. `"POST /invite"`.
    #[serde(default)]
    pub route: Option<String>,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub count: u32,
    /// What happens.
    pub action: FaultAction,
}

pub(crate) fn one() -> u32 {
    1
}

impl Fault {
    /// A fault on `route` (`None` = any API route) for the next `count` matching requests.
    pub fn new(route: Option<&str>, count: u32, action: FaultAction) -> Fault {
        Fault {
            route: route.map(str::to_string),
            count,
            action,
        }
    }

    /// The same fault, but hitting only the Nth, 2Nth, 3Nth … matching request until `count`
    /// hits are used ("a tenth of the invite calls" = `every(10)`). `0` is read as `1`.
    pub fn every(self, n: u32) -> SpreadFault {
        SpreadFault {
            fault: self,
            every: Some(n),
        }
    }
}

/// A [`Fault`] with an optional spacing: what [`Sandbox::inject`], [`Config::faults`],
/// `POST /__sandbox/faults` and `--fault` take.
///
/// JSON: the fault's own keys plus `every`, e.g.
/// `{"route":"POST /invite","count":3,"every":10,"action":{"type":"status","status":502}}`.
///
/// Each armed fault counts the matching requests it sees, whether or not an earlier-armed
/// fault took them; on a request that two faults want, the earlier-armed one acts and the other
/// keeps its hit for its next turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadFault {
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
    /// Hit only every Nth matching request (the Nth, 2Nth, …); `None` = every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
}

impl From<Fault> for SpreadFault {
    fn from(fault: Fault) -> Self {
        SpreadFault { fault, every: None }
    }
}

/// Why a fault given as JSON (control route, `--fault`) was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// Not a fault object (or list of them) as [`SpreadFault`] describes.
    #[error("bad fault: {0}")]
    Json(#[from] serde_json::Error),
    /// `every: 0` names no request at all.
    #[error("bad fault: \"every\" must be 1 or more (it hits the Nth, 2Nth, … matching request)")]
    ZeroEvery,
}

impl SpreadFault {
    /// Parses one fault object (the `--fault` flag's value).
    pub fn from_json(text: &str) -> Result<SpreadFault, FaultError> {
        let f: SpreadFault = serde_json::from_str(text)?;
        f.check()?;
        Ok(f)
    }

    /// Parses a fault object or a list of them (the `POST /__sandbox/faults` body).
    pub fn list_from_json(body: &[u8]) -> Result<Vec<SpreadFault>, FaultError> {
        // Shape decides which parse runs, so the error shown is the one about what was sent.
        let fs = if body.trim_ascii_start().starts_with(b"[") {
            serde_json::from_slice::<Vec<SpreadFault>>(body)?
        } else {
            vec![serde_json::from_slice::<SpreadFault>(body)?]
        };
        fs.iter().try_for_each(SpreadFault::check)?;
        Ok(fs)
    }

    fn check(&self) -> Result<(), FaultError> {
        if self.every == Some(0) {
            return Err(FaultError::ZeroEvery);
        }
        Ok(())
    }
}

/// What an injected fault does.
///
/// JSON: `{"type":"<snake_case variant>", …fields}`; [`FaultAction::StatusAfter`] is written
/// `{"type":"status","status":502,"carried_out":true}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "WireAction", into = "WireAction")]
pub enum FaultAction {
    /// Answer with this status (flavor-shaped JSON error) without carrying the request out,
    /// optional `Retry-After` seconds.
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Carry the request out, then answer with this status instead of the real answer — as a
    /// gateway does that lost the upstream's reply (JSON: `status` with `carried_out: true`).
    StatusAfter {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Wait, then answer normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without doing anything.
    Drop,
    /// Carry out the request, then close the connection without answering.
    DropAfter,
    /// Carry out the request, answer 200 with a body that is not JSON.
    Malformed,
    /// Carry out the request, answer with the first half of the real body.
    Truncated,
    /// Answer as the service does for an expired token.
    ExpiredToken,
    /// Answer with this status (as [`FaultAction::Status`], not carried out) and this exact
    /// `Retry-After` text, to try clients on hostile values: `10000000000000`, `-5`, a date in
    /// year 9999, garbage. JSON: `{"type":"raw_retry_after","status":429,"value":"-5"}`.
    RawRetryAfter {
        /// HTTP status.
        status: u16,
        /// The header's value, sent as is.
        value: String,
    },
    /// Answer 200 with a body that never ends (streamed until the client hangs up), not carried
    /// out: a client must stop reading at its own limit.
    EndlessBody,
}

/// [`FaultAction`] as written in JSON. `carried_out` lives on `status` (rather than being its
/// own `type`) so that old `{"type":"status",…}` faults read exactly as before, while the Rust
/// enum keeps `Status`'s two fields so existing struct literals still compile.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WireAction {
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u64>,
        #[serde(default, skip_serializing_if = "is_false")]
        carried_out: bool,
    },
    Delay {
        ms: u64,
    },
    Drop,
    DropAfter,
    Malformed,
    Truncated,
    ExpiredToken,
    RawRetryAfter {
        status: u16,
        value: String,
    },
    EndlessBody,
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

impl From<WireAction> for FaultAction {
    fn from(w: WireAction) -> Self {
        match w {
            WireAction::Status {
                status,
                retry_after,
                carried_out: false,
            } => FaultAction::Status {
                status,
                retry_after,
            },
            WireAction::Status {
                status,
                retry_after,
                carried_out: true,
            } => FaultAction::StatusAfter {
                status,
                retry_after,
            },
            WireAction::Delay { ms } => FaultAction::Delay { ms },
            WireAction::Drop => FaultAction::Drop,
            WireAction::DropAfter => FaultAction::DropAfter,
            WireAction::Malformed => FaultAction::Malformed,
            WireAction::Truncated => FaultAction::Truncated,
            WireAction::ExpiredToken => FaultAction::ExpiredToken,
            WireAction::RawRetryAfter { status, value } => {
                FaultAction::RawRetryAfter { status, value }
            }
            WireAction::EndlessBody => FaultAction::EndlessBody,
        }
    }
}

impl From<FaultAction> for WireAction {
    fn from(a: FaultAction) -> Self {
        match a {
            FaultAction::Status {
                status,
                retry_after,
            } => WireAction::Status {
                status,
                retry_after,
                carried_out: false,
            },
            FaultAction::StatusAfter {
                status,
                retry_after,
            } => WireAction::Status {
                status,
                retry_after,
                carried_out: true,
            },
            FaultAction::Delay { ms } => WireAction::Delay { ms },
            FaultAction::Drop => WireAction::Drop,
            FaultAction::DropAfter => WireAction::DropAfter,
            FaultAction::Malformed => WireAction::Malformed,
            FaultAction::Truncated => WireAction::Truncated,
            FaultAction::ExpiredToken => WireAction::ExpiredToken,
            FaultAction::RawRetryAfter { status, value } => {
                WireAction::RawRetryAfter { status, value }
            }
            FaultAction::EndlessBody => WireAction::EndlessBody,
        }
    }
}

/// An armed fault and how many matching requests it has seen (for `every`).
#[derive(Clone, Debug)]
pub(crate) struct Armed {
    pub spec: SpreadFault,
    pub seen: u32,
}

impl From<SpreadFault> for Armed {
    fn from(spec: SpreadFault) -> Self {
        Armed { spec, seen: 0 }
    }
}
