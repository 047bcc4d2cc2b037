//! The background sender: claims due jobs, sends each once (looking up first when an earlier
//! answer was lost), and records the result before the next step.

use super::concurrency::{self, Limiter, Permit, Signal};
use super::*;
use tokio::sync::Notify;

/// Gives the worker the provider of a workspace.
pub trait ProviderSource: Send + Sync {
    /// The provider for `workspace_id`.
    fn provider(&self, workspace_id: &str) -> Result<Arc<dyn Provider>>;
    /// Whether this process can send the workspace's jobs. Jobs of a workspace it can't serve
    /// are left queued, untouched, for a process that can (the demo's server runs inside the
    /// window, so the command line leaves the demo's jobs to it).
    fn serves(&self, workspace_id: &str) -> bool {
        let _ = workspace_id;
        true
    }
    /// Requests in flight for the workspace to start with (the owner's setting); the worker then
    /// adapts to the server's answers ([`concurrency`]).
    fn concurrency(&self, workspace_id: &str) -> usize {
        let _ = workspace_id;
        4
    }
    /// The most requests in flight the worker may grow to for the workspace, however well the
    /// server answers (at most [`concurrency::MAX`]).
    fn max_concurrency(&self, workspace_id: &str) -> usize {
        let _ = workspace_id;
        concurrency::MAX
    }
    /// The workspace's known email limit; the worker never starts more emails than it allows.
    /// `None`: not known (a 429 teaches it).
    fn email_budget(&self, workspace_id: &str) -> Option<EmailBudget> {
        let _ = workspace_id;
        None
    }
}

/// At most `emails` invitation emails per `window`: what the owner knows of the server's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailBudget {
    /// Emails per window.
    pub emails: u32,
    /// The window (an hour for GoTrue's limit).
    pub window: Duration,
}

impl EmailBudget {
    /// `n` emails per hour.
    pub fn per_hour(n: u32) -> Self {
        Self {
            emails: n,
            window: Duration::from_secs(3600),
        }
    }
}

/// Callback for [`OutboxEvent`]s.
pub type EventSink = Arc<dyn Fn(OutboxEvent) + Send + Sync>;

/// The background sender.
#[derive(Debug)]
pub struct Worker;

/// A running worker.
#[derive(Debug)]
pub struct WorkerHandle {
    notify: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Tells the worker new jobs are there.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Stops the worker; jobs in flight are abandoned and resolved on the next start.
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

impl Worker {
    /// Spawns the worker on the current tokio runtime.
    pub fn spawn(
        outbox: Outbox,
        providers: Arc<dyn ProviderSource>,
        events: EventSink,
    ) -> WorkerHandle {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let task = tokio::spawn(async move { run(outbox, providers, events, n).await });
        WorkerHandle { notify, task }
    }
}

async fn run(
    outbox: Outbox,
    providers: Arc<dyn ProviderSource>,
    events: EventSink,
    notify: Arc<Notify>,
) {
    // Per workspace: its adaptive limit (made anew when the owner changes the setting).
    let mut limits: HashMap<(String, bool), Arc<Limiter>> = HashMap::new();
    // Workspaces this process can't serve, left out of the next read so that their jobs never
    // crowd out the rest.
    let mut unserved: Vec<String> = Vec::new();
    let in_flight: Arc<Mutex<std::collections::HashSet<i64>>> = Arc::default();
    let offline: Arc<Offline> = Arc::default();
    // Email requests started and not yet finished, per workspace with a known email limit.
    let emails: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    loop {
        // Jobs another process was sending when it died come back once their lease lapses.
        if let Err(e) = outbox.recover_now_and_then() {
            tracing::error!(error = %e, "outbox recovery failed");
        }
        unserved.retain(|w| !providers.serves(w));
        // Workspaces with every slot taken are left out of the read too: the rows read are
        // the ones that can start now, so a short read is enough however long the queue, and
        // one busy workspace never hides another's jobs.
        let mut skip = unserved.clone();
        for (ws, _) in limits.keys() {
            let all_full = limits
                .iter()
                .filter(|((w, _), _)| w == ws)
                .all(|(_, l)| l.is_full());
            if all_full && !skip.contains(ws) {
                skip.push(ws.clone());
            }
        }
        let due = match outbox.due(DUE_READ, &skip) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "outbox read failed");
                Vec::new()
            }
        };
        for (job, due_req) in due {
            if in_flight
                .lock()
                .map(|s| s.contains(&job.id))
                .unwrap_or(true)
            {
                continue;
            }
            if !providers.serves(&job.workspace_id) {
                if !unserved.contains(&job.workspace_id) {
                    unserved.push(job.workspace_id.clone());
                }
                continue;
            }
            // Read each time: the owner may change it in Settings while a batch runs. Requests
            // already in flight under the old limit finish.
            let setting = providers.concurrency(&job.workspace_id).max(1);
            // Email jobs never have more in flight than the known email limit; links have
            // their own pace.
            let cap = due_req
                .send_email
                .then(|| providers.email_budget(&job.workspace_id))
                .flatten()
                .map_or(concurrency::MAX, |b| {
                    usize::try_from(b.emails).unwrap_or(concurrency::MAX)
                })
                .min(providers.max_concurrency(&job.workspace_id));
            let key = (job.workspace_id.clone(), due_req.send_email);
            let limiter = match limits.get(&key) {
                Some(l) if l.made_for(setting, cap) => l.clone(),
                _ => {
                    let l = Limiter::new(setting, cap);
                    limits.insert(key, l.clone());
                    l
                }
            };
            let Some(permit) = limiter.try_acquire() else {
                continue;
            };
            // The claim decides who sends it; what `due` read may be stale by now (another
            // process may have tried it), so the job is read again with the claim.
            let (job, req) = match outbox.claim(job.id) {
                Ok(Some(claimed)) => claimed,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "outbox claim failed");
                    continue;
                }
            };
            let budget = req
                .send_email
                .then(|| providers.email_budget(&job.workspace_id))
                .flatten();
            if let Some(b) = budget {
                let started = emails
                    .lock()
                    .map_or(0, |m| m.get(&job.workspace_id).copied().unwrap_or(0));
                let slot = outbox
                    .next_email_slot(&job.workspace_id, b, started)
                    .and_then(|slot| match slot {
                        None => Ok(false),
                        Some(until) => {
                            wait_for_budget(&outbox, &events, &job, b, until).map(|()| true)
                        }
                    });
                match slot {
                    Ok(false) => {}
                    Ok(true) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, "outbox job failed to record");
                        // Leave it to the lease: it is due again once the claim lapses.
                        continue;
                    }
                }
            }
            if let Ok(mut s) = in_flight.lock() {
                s.insert(job.id);
            }
            let counted = budget.is_some();
            if counted {
                if let Ok(mut m) = emails.lock() {
                    *m.entry(job.workspace_id.clone()).or_default() += 1;
                }
            }
            let (outbox, providers, events, in_flight, notify, offline, emails) = (
                outbox.clone(),
                providers.clone(),
                events.clone(),
                in_flight.clone(),
                notify.clone(),
                offline.clone(),
                emails.clone(),
            );
            tokio::spawn(async move {
                let id = job.id;
                let workspace_id = job.workspace_id.clone();
                if let Err(e) = process(
                    &outbox,
                    providers.as_ref(),
                    &events,
                    &offline,
                    job,
                    req,
                    permit,
                )
                .await
                {
                    tracing::error!(error = %e, "outbox job failed to record");
                }
                if let Ok(mut s) = in_flight.lock() {
                    s.remove(&id);
                }
                if counted {
                    if let Ok(mut m) = emails.lock() {
                        if let Some(n) = m.get_mut(&workspace_id) {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
                notify.notify_one();
            });
        }
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Jobs read per pass of the worker: more than the most that can start at once (16 per
/// workspace), few enough that a pass stays cheap when thousands wait.
const DUE_READ: usize = 64;

/// Runs `fut` (a request for job `id`) while renewing this process's claim on the job, so that
/// a slow answer never lets another process take it over.
async fn renewing<F: std::future::Future>(outbox: &Outbox, id: i64, fut: F) -> F::Output {
    tokio::pin!(fut);
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = tick.tick() => {
                if let Err(e) = outbox.renew(id) {
                    tracing::warn!(error = %e, "outbox lease renewal failed");
                }
            }
        }
    }
}

/// Sends one claimed job: look up first when an earlier attempt may have arrived, then send
/// once. Every change is made only while the claim holds; when it no longer does (the owner
/// stopped or paused it meanwhile) the job is left as they set it.
async fn process(
    outbox: &Outbox,
    providers: &dyn ProviderSource,
    events: &EventSink,
    offline: &Offline,
    job: Job,
    req: InviteRequest,
    permit: Permit,
) -> Result<()> {
    let emit = |j: Option<Job>| match j {
        Some(j) => events(OutboxEvent::JobChanged { job: Box::new(j) }),
        None => tracing::debug!("an outbox job was stopped or paused while it was worked on"),
    };
    let provider = match providers.provider(&job.workspace_id) {
        Ok(p) => p,
        Err(e) => return fail(outbox, &emit, job.id, &e),
    };
    // A request of this job may have reached the server: look before sending again. What is
    // found counts only if it can be ours; a member is a member whoever invited them.
    if job.first_sent_at.is_some() {
        match renewing(outbox, job.id, provider.find(&req.email)).await {
            Ok(Some(found))
                if found.status == InviteStatus::Accepted
                    || (found.status.is_open() && job.made_by_us(&found)) =>
            {
                let outcome = if found.status == InviteStatus::Accepted {
                    "already_member"
                } else {
                    "invited"
                };
                let (id, invite_id) = (job.id, found.id);
                let j = transition(outbox, id, JobState::Done, move |c| {
                    c.execute(
                        "UPDATE jobs SET outcome=?2, invite_id=?3, error_kind=NULL WHERE id=?1",
                        params![id, outcome, invite_id],
                    )
                    .map(|_| ())
                })
                .await?;
                emit(j);
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => {
                let overloaded = permit.finish(Signal::of_error(&e));
                return reschedule(outbox, &emit, events, offline, &job, &e, overloaded);
            }
        }
    }
    // The step that must never overwrite a Stop or a Pause: conditional on the claim.
    let id = job.id;
    let Some(j) = transition(outbox, id, JobState::Sending, move |c| {
        c.execute(
            "UPDATE jobs SET attempts=attempts+1, first_sent_at=COALESCE(first_sent_at, ?2) WHERE id=?1",
            params![id, now()],
        )
        .map(|_| ())
    })
    .await?
    else {
        emit(None);
        return Ok(());
    };
    emit(Some(j.clone()));
    let started = std::time::Instant::now();
    let answer = renewing(outbox, job.id, provider.invite(&req)).await;
    let overloaded = permit.finish(Signal::of(&answer, started.elapsed()));
    if !matches!(answer, Err(Error::Network { .. })) {
        offline.clear(&job.workspace_id);
    }
    match answer {
        Ok(done) => {
            let outcome = if done.link.is_some() && !req.send_email {
                "link_created"
            } else if done.replaced_existing {
                "updated_existing"
            } else {
                "invited"
            };
            // Kept until the link dies (as the server tells, else GoTrue's default lifetime).
            let link_expires_at = done.link.as_ref().map(|_| {
                done.invite
                    .expires_at
                    .map(|t| t.timestamp_millis())
                    .unwrap_or_else(|| {
                        now_ms().saturating_add(
                            i64::try_from(LINK_KEPT.as_millis()).unwrap_or(i64::MAX),
                        )
                    })
            });
            let (link, invite_id) = (done.link, done.invite.id);
            let j = transition(outbox, id, JobState::Done, move |c| {
                c.execute(
                    "UPDATE jobs SET outcome=?2, link=?3, invite_id=?4, link_expires_at=?5,
                       error_kind=NULL, error_message=NULL, error_detail=NULL WHERE id=?1",
                    params![id, outcome, link, invite_id, link_expires_at],
                )
                .map(|_| ())
            })
            .await?;
            emit(j);
            Ok(())
        }
        Err(Error::AlreadyMember { .. }) => {
            let j = transition(outbox, id, JobState::Done, move |c| {
                c.execute(
                    "UPDATE jobs SET outcome='already_member' WHERE id=?1",
                    params![id],
                )
                .map(|_| ())
            })
            .await?;
            emit(j);
            Ok(())
        }
        Err(e) => reschedule(outbox, &emit, events, offline, &j, &e, overloaded),
    }
}

/// [`Outbox::transition`] on tokio's blocking threads. A synced commit waits for the disk; on a
/// runtime thread that wait would hold up every request in flight (and, for the demo, the server
/// answering them), and the answers would look slow to the concurrency limit.
async fn transition(
    outbox: &Outbox,
    id: i64,
    state: JobState,
    f: impl FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
) -> Result<Option<Job>> {
    let outbox = outbox.clone();
    tokio::task::spawn_blocking(move || outbox.transition(id, state, f))
        .await
        .map_err(Error::storage)?
}

/// Holds a claimed job, and the workspace's other email jobs, until the owner's email limit
/// has room.
fn wait_for_budget(
    outbox: &Outbox,
    events: &EventSink,
    job: &Job,
    budget: EmailBudget,
    until: DateTime<Utc>,
) -> Result<()> {
    let e = Error::RateLimited {
        retry_after: (until - Utc::now()).to_std().ok(),
        email_limit: true,
        detail: Some(format!(
            "Invite Desk keeps to the limit set for this workspace: {} emails in {}.",
            budget.emails,
            crate::error::human_duration(budget.window)
        )),
    };
    let Some(j) = outbox.transition(job.id, JobState::Waiting, |c| {
        record_error(c, job.id, &e, Some(until))
    })?
    else {
        return Ok(());
    };
    events(OutboxEvent::JobChanged { job: Box::new(j) });
    outbox.hold_workspace(&job.workspace_id, until, true)
}

pub(super) fn record_error(
    c: &Connection,
    id: i64,
    e: &Error,
    next: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE jobs SET error_kind=?2, error_message=?3, error_detail=?4, next_attempt_at=?5,
           error_email_limit=?6 WHERE id=?1",
        params![
            id,
            e.kind(),
            e.to_string(),
            e.detail(),
            next.map(|n| n.to_rfc3339()),
            matches!(
                e,
                Error::RateLimited {
                    email_limit: true,
                    ..
                }
            )
        ],
    )
    .map(|_| ())
}

fn fail(outbox: &Outbox, emit: &dyn Fn(Option<Job>), id: i64, e: &Error) -> Result<()> {
    let j = outbox.transition(id, JobState::Failed, |c| record_error(c, id, e, None))?;
    emit(j);
    Ok(())
}

/// Transient errors wait and retry (a lost answer is looked up first); the rest fail visibly.
fn reschedule(
    outbox: &Outbox,
    emit: &dyn Fn(Option<Job>),
    events: &EventSink,
    offline: &Offline,
    job: &Job,
    e: &Error,
    overloaded: bool,
) -> Result<()> {
    if matches!(e, Error::SignedOut { .. } | Error::NotAdmin { .. }) {
        // Nothing is dropped: this job and the rest of the workspace's queue wait for the owner
        // to sign in again (or fix the key) and resume.
        let held = outbox.transition(job.id, JobState::Queued, |c| {
            record_error(c, job.id, e, None)
        })?;
        outbox.pause_workspace(&job.workspace_id, e.kind())?;
        events(OutboxEvent::WorkspacePaused {
            workspace_id: job.workspace_id.clone(),
            reason: e.kind().to_string(),
        });
        if held.is_some() {
            if let Ok(j) = outbox.job(job.id) {
                emit(Some(j));
            }
        }
        return Ok(());
    }
    if !e.is_transient() {
        return fail(outbox, emit, job.id, e);
    }
    let cap = match e {
        Error::RateLimited {
            email_limit: true, ..
        } => Duration::from_secs(3600),
        _ => Duration::from_secs(60),
    };
    let next = match e {
        // Offline, the workspace's failures count, not the job's: fresh jobs would otherwise
        // each start again at a second.
        Error::Network { .. } => offline.hold(&job.workspace_id, cap),
        _ => {
            let backoff = Duration::from_secs(1u64 << job.attempts.min(12)).min(cap);
            // A server's wait is taken at most up to an hour: a hostile or broken value never
            // parks the queue, and the date arithmetic is checked.
            let wait = e.retry_after().unwrap_or(backoff).min(MAX_WAIT);
            let now = Utc::now();
            now.checked_add_signed(to_chrono(wait)).unwrap_or(now)
        }
    };
    // Waits until due; `attempts > 0` makes `process` look the address up before re-sending.
    let j = outbox.transition(job.id, JobState::Waiting, |c| {
        record_error(c, job.id, e, Some(next))
    })?;
    let held = j.is_some();
    emit(j);
    // Once the server cannot be reached, names a wait, or says "too many" even at one request
    // at a time, more requests before `next` only earn more refusals: the workspace's other
    // queued jobs wait too. A bare "too many" at a higher pace only halves the pace
    // (`concurrency`), and the rest go on.
    let hold = match e {
        Error::Network { .. } => true,
        Error::RateLimited {
            retry_after,
            email_limit,
            ..
        } => *email_limit || retry_after.is_some() || overloaded,
        _ => false,
    };
    if held && hold {
        outbox.hold_workspace(&job.workspace_id, next, false)?;
    }
    Ok(())
}

/// The longest the worker waits on a server's word before trying again.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Network failures per workspace. While the network is gone the whole workspace waits, each
/// round of failures doubling the wait (up to `cap`), rather than every job trying in turn.
#[derive(Debug, Default)]
struct Offline(Mutex<HashMap<String, (u32, DateTime<Utc>)>>);

impl Offline {
    /// Until when the workspace waits. Requests of one round fail together: only the first
    /// failure after the last wait ended doubles it.
    fn hold(&self, workspace_id: &str, cap: Duration) -> DateTime<Utc> {
        let now = Utc::now();
        let Ok(mut m) = self.0.lock() else {
            return now + to_chrono(cap);
        };
        let (rounds, until) = m
            .entry(workspace_id.to_string())
            .or_insert((0, DateTime::<Utc>::MIN_UTC));
        if *until <= now {
            *rounds = rounds.saturating_add(1);
            *until = now + to_chrono(Duration::from_secs(1u64 << (*rounds).min(12)).min(cap));
        }
        *until
    }

    fn clear(&self, workspace_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(workspace_id);
        }
    }
}
