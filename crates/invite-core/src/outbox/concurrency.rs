//! How many requests a workspace gets in flight at once: additive increase, multiplicative
//! decrease (AIMD, as TCP does), so a batch finds the server's pace by itself.
//!
//! - It starts at the workspace's setting (4 by default).
//! - Until the first overload, each fast, clean answer adds one (slow start, as TCP does: the
//!   limit doubles every round of answers), so a healthy server reaches [`MAX`] within a few
//!   round trips instead of a dozen. After it, each fast, clean answer adds `1/limit` (about
//!   one more request per round of answers). Never above [`MAX`] nor a known email limit.
//!   "Fast" means at most twice the quickest answer seen: a server that slows down is
//!   queueing, and more requests would only queue too.
//! - A 429 (not the email quota, which has its own budget) or a 5xx halves the limit, once per
//!   round: answers to requests sent before the cut belong to the same overload and don't cut
//!   again.
//! - The level that was refused is remembered. Growth stops just below it, and tries it again
//!   only after a run of clean answers that doubles each time the try is refused, so a server
//!   with a fixed cap sees a handful of refusals in a long batch, not one every few rounds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};

/// The most requests in flight for one workspace, whatever the answers.
pub const MAX: usize = 16;

/// Clean answers at the level below a refused one before that level is tried again (doubled
/// after each refused try).
const FIRST_PROBE_AFTER: u32 = 64;

/// What one answer says about the server's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A useful answer, after this long.
    Clean(Duration),
    /// "Too many requests" or a server failure: fewer at once.
    Congested,
    /// Says nothing about load (a lookup, a refused address, the network gone).
    Neutral,
}

impl Signal {
    /// What an invitation's answer says, `took` after it was sent.
    pub fn of<T>(answer: &Result<T>, took: Duration) -> Signal {
        match answer {
            Ok(_) | Err(Error::AlreadyMember { .. }) => Signal::Clean(took),
            Err(e) => Signal::of_error(e),
        }
    }

    /// What a failed request says: an overload (a 429 other than the email quota, a 5xx, or no
    /// answer in time), or nothing about load.
    pub fn of_error(e: &Error) -> Signal {
        match e {
            Error::RateLimited {
                email_limit: false, ..
            }
            | Error::Server { .. }
            | Error::Uncertain { .. } => Signal::Congested,
            _ => Signal::Neutral,
        }
    }
}

#[derive(Debug)]
struct State {
    /// The owner's setting it started from (a changed setting starts over).
    setting: usize,
    /// Never above this: [`MAX`], or the email limit when it is lower.
    cap: usize,
    limit: f64,
    in_flight: usize,
    /// The lowest level the server refused, until a try at it passes a round.
    ceiling: Option<usize>,
    /// Clean answers needed just below `ceiling` before it is tried again.
    probe_after: u32,
    /// Clean answers since the last cut.
    clean_streak: u32,
    /// Clean answers to requests sent since the refused level was tried again.
    probe_clean: u32,
    /// The quickest answer seen: what "fast" is measured against.
    quickest: Option<Duration>,
    /// Bumped at every cut; a permit remembers the epoch it started in.
    epoch: u64,
    /// No overload and no slow answer seen yet: grow by one per answer, not per round.
    slow_start: bool,
}

/// The adaptive limit of one workspace; shared by the worker and its in-flight requests.
#[derive(Debug)]
pub struct Limiter(Mutex<State>);

impl Limiter {
    /// A limiter starting at `setting` (clamped to 1..=`cap`), never above `cap` (itself at most
    /// [`MAX`]).
    pub fn new(setting: usize, cap: usize) -> Arc<Self> {
        let cap = cap.clamp(1, MAX);
        Arc::new(Limiter(Mutex::new(State {
            setting,
            cap,
            limit: setting.clamp(1, cap) as f64,
            in_flight: 0,
            ceiling: None,
            probe_after: FIRST_PROBE_AFTER,
            clean_streak: 0,
            probe_clean: 0,
            quickest: None,
            epoch: 0,
            slow_start: true,
        })))
    }

    /// Whether this limiter was made for `setting` and `cap` (else the worker makes a new one).
    pub fn made_for(&self, setting: usize, cap: usize) -> bool {
        self.0
            .lock()
            .map(|s| s.setting == setting && s.cap == cap.clamp(1, MAX))
            .unwrap_or(false)
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.0.lock().map(|s| s.allowed()).unwrap_or(1)
    }

    /// True when every slot is taken.
    pub fn is_full(&self) -> bool {
        self.0
            .lock()
            .map(|s| s.in_flight >= s.allowed())
            .unwrap_or(true)
    }

    /// A slot for one request, if the limit has room.
    pub fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        let mut s = self.0.lock().ok()?;
        if s.in_flight >= s.allowed() {
            return None;
        }
        s.in_flight += 1;
        Some(Permit {
            limiter: self.clone(),
            epoch: s.epoch,
            finished: false,
        })
    }
}

impl State {
    fn allowed(&self) -> usize {
        // Truncation is the point: 3.7 allows 3.
        (self.limit as usize).clamp(1, self.cap)
    }

    /// Records one answer; true when it was an overload already at one request at a time (the
    /// limit can't go lower, so the caller should wait as a whole).
    fn record(&mut self, signal: Signal, epoch: u64) -> bool {
        match signal {
            Signal::Neutral => false,
            Signal::Congested => {
                if epoch < self.epoch {
                    // Sent before the last cut: the same overload, already answered.
                    return self.allowed() <= 1;
                }
                let at = self.allowed();
                if let Some(c) = self.ceiling {
                    if at >= c {
                        // A try at the refused level failed: wait longer before the next.
                        self.probe_after = self.probe_after.saturating_mul(2);
                    }
                }
                self.ceiling = Some(self.ceiling.map_or(at, |c| c.min(at)).max(1));
                self.limit = (self.limit / 2.0).max(1.0);
                self.slow_start = false;
                self.clean_streak = 0;
                self.epoch += 1;
                at <= 1
            }
            Signal::Clean(took) => {
                let quickest = *self.quickest.get_or_insert(took);
                if took < quickest {
                    self.quickest = Some(took);
                }
                self.clean_streak = self.clean_streak.saturating_add(1);
                let fast = took <= quickest.saturating_mul(2) + Duration::from_millis(5);
                if !fast {
                    // The server has started to queue: from here on, grow carefully.
                    self.slow_start = false;
                    return false;
                }
                let now = self.allowed();
                let step = if self.slow_start {
                    1.0
                } else {
                    1.0 / self.limit
                };
                let next = self.limit + step;
                match self.ceiling {
                    // Below the refused level: grow, but stop just under it.
                    Some(c) if now + 1 < c => {
                        self.limit = next.min((c - 1) as f64);
                    }
                    // Just under it: try it again after a long enough clean run.
                    Some(c) if now + 1 == c => {
                        if self.clean_streak >= self.probe_after {
                            self.limit = c as f64;
                            // Only answers to requests sent at the new level count for it.
                            self.epoch += 1;
                            self.probe_clean = 0;
                        }
                    }
                    // At or above it: a full round of clean answers there lifts it.
                    Some(c) => {
                        if epoch == self.epoch {
                            self.probe_clean = self.probe_clean.saturating_add(1);
                            if self.probe_clean as usize >= c {
                                self.ceiling = None;
                            }
                        }
                    }
                    None => self.limit = next,
                }
                self.limit = self.limit.min(self.cap as f64);
                false
            }
        }
    }
}

/// One request's slot; dropping it without [`Permit::finish`] frees the slot and says nothing.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    epoch: u64,
    finished: bool,
}

impl Permit {
    /// Frees the slot and records what the answer said. True when the server is overloaded even
    /// at one request at a time: the caller should hold the whole workspace.
    pub fn finish(mut self, signal: Signal) -> bool {
        self.finished = true;
        self.limiter
            .0
            .lock()
            .map(|mut s| {
                s.in_flight = s.in_flight.saturating_sub(1);
                s.record(signal, self.epoch)
            })
            .unwrap_or(false)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished {
            if let Ok(mut s) = self.limiter.0.lock() {
                s.in_flight = s.in_flight.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS50: Duration = Duration::from_millis(50);

    fn run_round(l: &Arc<Limiter>, signal: impl Fn(usize) -> Signal) -> usize {
        let permits: Vec<Permit> = std::iter::from_fn(|| l.try_acquire()).collect();
        let n = permits.len();
        for p in permits {
            p.finish(signal(n));
        }
        n
    }

    #[test]
    fn starts_at_the_setting_and_grows_to_the_cap_while_answers_are_fast() {
        let l = Limiter::new(4, MAX);
        assert_eq!(run_round(&l, |_| Signal::Clean(MS50)), 4);
        for _ in 0..40 {
            run_round(&l, |_| Signal::Clean(MS50));
        }
        assert_eq!(l.limit(), MAX);
        assert_eq!(run_round(&l, |_| Signal::Clean(MS50)), MAX);
    }

    #[test]
    fn slow_start_doubles_each_round_until_the_first_overload() {
        let l = Limiter::new(4, MAX);
        assert_eq!(run_round(&l, |_| Signal::Clean(MS50)), 4);
        assert_eq!(run_round(&l, |_| Signal::Clean(MS50)), 8);
        assert_eq!(run_round(&l, |_| Signal::Clean(MS50)), MAX);
        // After an overload: about one more per round.
        let l = Limiter::new(8, MAX);
        run_round(&l, |_| Signal::Congested);
        assert_eq!(l.limit(), 4);
        run_round(&l, |_| Signal::Clean(MS50));
        run_round(&l, |_| Signal::Clean(MS50));
        assert_eq!(l.limit(), 5);
        // After a slow answer too.
        let l = Limiter::new(4, MAX);
        run_round(&l, |_| Signal::Clean(MS50));
        run_round(&l, |n| Signal::Clean(if n == 8 { MS50 * 3 } else { MS50 }));
        let before = l.limit();
        run_round(&l, |_| Signal::Clean(MS50));
        assert!(l.limit() <= before + 1, "{} after {before}", l.limit());
    }

    #[test]
    fn never_above_a_known_email_limit() {
        let l = Limiter::new(4, 5);
        for _ in 0..40 {
            run_round(&l, |_| Signal::Clean(MS50));
        }
        assert_eq!(l.limit(), 5);
        assert_eq!(Limiter::new(8, 3).limit(), 3);
    }

    #[test]
    fn slow_answers_do_not_grow_it() {
        let l = Limiter::new(4, MAX);
        l.try_acquire().unwrap().finish(Signal::Clean(MS50));
        assert_eq!(l.limit(), 5);
        for _ in 0..20 {
            run_round(&l, |_| Signal::Clean(Duration::from_millis(400)));
        }
        assert_eq!(l.limit(), 5);
    }

    #[test]
    fn one_overload_halves_once_however_many_answers_say_so() {
        let l = Limiter::new(12, MAX);
        run_round(&l, |_| Signal::Congested);
        assert_eq!(l.limit(), 6);
        let l = Limiter::new(1, MAX);
        let p = l.try_acquire().unwrap();
        assert!(p.finish(Signal::Congested), "at one at a time: hold");
    }

    #[test]
    fn a_dropped_permit_frees_its_slot() {
        let l = Limiter::new(1, MAX);
        let p = l.try_acquire().unwrap();
        assert!(l.try_acquire().is_none());
        drop(p);
        assert!(l.try_acquire().is_some());
    }

    /// A server that refuses above `cap` in flight, run for `rounds` rounds: the refusals and
    /// the answers that went through.
    fn against_a_cap(start: usize, cap: usize, rounds: usize) -> (usize, usize) {
        let l = Limiter::new(start, MAX);
        let (mut refused, mut ok) = (0, 0);
        for _ in 0..rounds {
            let permits: Vec<Permit> = std::iter::from_fn(|| l.try_acquire()).collect();
            let n = permits.len();
            for (i, p) in permits.into_iter().enumerate() {
                if i < cap {
                    ok += 1;
                    p.finish(Signal::Clean(MS50));
                } else {
                    refused += 1;
                    p.finish(Signal::Congested);
                }
            }
            assert!(n >= 1);
        }
        (refused, ok)
    }

    #[test]
    fn a_fixed_server_cap_is_found_with_few_refusals() {
        // 170 rounds of 6 is about a 1,000-invite batch.
        let (refused, ok) = against_a_cap(4, 6, 170);
        // The first climb past 6, then tries at 7 spaced ever further apart.
        assert!(refused <= 8, "{refused} refusals");
        // The best fixed setting (6) would have 1,020 through.
        assert!(ok * 100 >= 1020 * 90, "{ok} through");
    }

    proptest! {
        #[test]
        fn the_limit_stays_within_one_and_the_cap(
            start in 0usize..40,
            cap in 0usize..40,
            signals in proptest::collection::vec(0u8..4, 0..400),
        ) {
            let l = Limiter::new(start, cap);
            let top = cap.clamp(1, MAX);
            for s in signals {
                let signal = match s {
                    0 => Signal::Congested,
                    1 => Signal::Neutral,
                    2 => Signal::Clean(MS50),
                    _ => Signal::Clean(Duration::from_secs(3)),
                };
                if let Some(p) = l.try_acquire() {
                    p.finish(signal);
                }
                let now = l.limit();
                prop_assert!((1..=top).contains(&now), "{now} not in 1..={top}");
            }
            let held: Vec<Permit> = std::iter::from_fn(|| l.try_acquire()).collect();
            prop_assert_eq!(held.len(), l.limit());
        }
    }
}
