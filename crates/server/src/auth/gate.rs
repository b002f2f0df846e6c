//! The password-hashing gate: argon2 costs 19 MiB and tens of milliseconds of a core per
//! check, so at most `workers` checks run at once, at most `queue` more wait for a turn, and
//! anything beyond is refused at once (`AuthError::Busy`, which the routes answer with 503 and
//! `Retry-After`). A login flood then costs at most `workers × 19 MiB` and leaves the other
//! cores to the receivers (issue 13, item 2). User sign-ins and verbal-password checks share
//! it.

use super::AuthError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The gate's size. `Default`: one worker per core but one (at least one), so that a flood of
/// sign-ins always leaves a core to the receivers; a queue of 8 per worker; retry after 1 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateConfig {
    /// Password checks that run at once (≥ 1).
    pub workers: usize,
    /// Checks that may wait for a worker; more are refused.
    pub queue: usize,
    /// What a refused caller is told to wait, in seconds (`Retry-After`).
    pub retry_after_s: u64,
}

impl Default for GateConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = cores.saturating_sub(1).max(1);
        GateConfig {
            workers,
            queue: 8 * workers,
            retry_after_s: 1,
        }
    }
}

/// Shared by every route that hashes or checks a password.
#[derive(Debug)]
pub struct Gate {
    workers: Arc<Semaphore>,
    waiting: AtomicUsize,
    config: GateConfig,
}

/// A turn at a worker, held until the password work it runs has finished (even when the
/// request that asked for it is gone).
pub struct Turn(OwnedSemaphorePermit);

/// Counts a waiter for as long as it waits, also when its request is dropped mid-wait.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    pub fn new(config: GateConfig) -> Gate {
        let workers = config.workers.max(1);
        Gate {
            workers: Arc::new(Semaphore::new(workers)),
            waiting: AtomicUsize::new(0),
            config: GateConfig { workers, ..config },
        }
    }

    pub fn config(&self) -> GateConfig {
        self.config
    }

    /// Waits for a worker, however long the queue: for a signed-in agent's verbal-password
    /// check on a live call, which an anonymous flood of sign-ins must not turn away. Such
    /// checks are few (one at a time per node: `ApiState::password_checks`) and hold no
    /// memory while they wait.
    pub async fn enter_at_work(&self) -> Result<Turn, AuthError> {
        let permit = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AuthError::Internal(format!("password gate: {e}")))?;
        Ok(Turn(permit))
    }

    /// Waits for a worker if one is free or the queue has room; `Busy` at once otherwise.
    pub async fn enter(&self) -> Result<Turn, AuthError> {
        if let Ok(permit) = self.workers.clone().try_acquire_owned() {
            return Ok(Turn(permit));
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.config.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AuthError::Busy {
                retry_after_s: self.config.retry_after_s,
            });
        }
        let _waiting = Waiting(&self.waiting);
        let permit = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AuthError::Internal(format!("password gate: {e}")))?;
        Ok(Turn(permit))
    }

    /// Runs `work` (a password hash or check) on the blocking pool within a turn.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        self.enter().await?.run(work).await
    }

    /// How many checks run now and how many wait: for tests and the logs.
    pub fn load(&self) -> (usize, usize) {
        (
            self.config.workers - self.workers.available_permits(),
            self.waiting.load(Ordering::Acquire),
        )
    }
}

impl Turn {
    /// Runs `work` on the blocking pool; the turn ends when `work` does.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let permit = self.0;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| AuthError::Internal(format!("password hashing: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_check_at_work_waits_where_a_sign_in_is_refused() {
        let gate = Arc::new(Gate::new(GateConfig {
            workers: 1,
            queue: 0,
            retry_after_s: 1,
        }));
        let busy = gate.enter().await.unwrap();
        assert!(matches!(gate.enter().await, Err(AuthError::Busy { .. })));
        let at_work = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter_at_work().await.map(drop).is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!at_work.is_finished(), "it waits for the worker");
        drop(busy);
        assert!(at_work.await.unwrap());
    }

    #[tokio::test]
    async fn beyond_workers_and_queue_the_gate_refuses_at_once() {
        let gate = Arc::new(Gate::new(GateConfig {
            workers: 2,
            queue: 1,
            retry_after_s: 3,
        }));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let mut running = Vec::new();
        for _ in 0..2 {
            let (gate, hold) = (gate.clone(), hold.clone());
            running.push(tokio::spawn(async move {
                gate.run(move || hold.lock().unwrap().recv().unwrap()).await
            }));
        }
        while gate.load().0 < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let queued = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(|| 7).await }
        });
        while gate.load().1 < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = gate.run(|| 8).await.unwrap_err();
        assert!(
            matches!(refused, AuthError::Busy { retry_after_s: 3 }),
            "{refused}"
        );
        for _ in 0..2 {
            release.send(()).unwrap();
        }
        for task in running {
            task.await.unwrap().unwrap();
        }
        assert_eq!(queued.await.unwrap().unwrap(), 7);
        assert_eq!(gate.load(), (0, 0));
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_the_queue() {
        let gate = Gate::new(GateConfig {
            workers: 1,
            queue: 1,
            retry_after_s: 1,
        });
        let turn = gate.enter().await.unwrap();
        let gave_up = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await;
        assert!(gave_up.is_err());
        assert_eq!(gate.load(), (1, 0));
        drop(turn);
        assert!(gate.enter().await.is_ok());
    }
}
