//! The one polling loop of the client: jobs, copy progress and lookups all
//! wait through [`poll`], so backoff, jitter and deadlines behave the same
//! everywhere.
//!
//! The first check comes after `first` (a job's expected duration, not
//! at once: an immediate poll of a fresh job only ever says "running");
//! each later pause doubles, with ±20 % jitter so that parallel waiters do
//! not poll in step, up to `max`.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How a wait paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Pause before the first check.
    pub first: Duration,
    /// Longest pause between checks.
    pub max: Duration,
}

impl Pace {
    pub fn new(first: Duration, max: Duration) -> Self {
        Pace {
            first,
            max: max.max(first),
        }
    }

    /// The pause before check number `n` (0-based), with jitter.
    pub fn pause(&self, n: u32, jitter: f64) -> Duration {
        let base = if n == 0 {
            self.first
        } else {
            (self.first.max(Duration::from_millis(10)) * 2u32.saturating_pow(n.min(16)))
                .min(self.max)
        };
        // the first look never comes early (it is aimed at when the work
        // is expected to be done); later ones spread both ways
        if n == 0 {
            return base.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0));
        }
        base.mul_f64((1.0 + 0.4 * (jitter - 0.5)).clamp(0.8, 1.2))
    }
}

/// What one check found.
pub enum Step<T> {
    Done(T),
    /// Not yet; an optional hint of how long to wait (e.g. `Retry-After`).
    Wait(Option<Duration>),
}

/// Checks until `check` is done or `deadline` passes (`Ok(None)`). The
/// last check happens at the deadline, not after it.
pub async fn poll<T, E, F, Fut>(pace: Pace, deadline: Instant, mut check: F) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>, E>>,
{
    let mut n = 0u32;
    let mut hint: Option<Duration> = None;
    loop {
        let pause = hint.unwrap_or_else(|| pace.pause(n, rand::random::<f64>()));
        let now = Instant::now();
        if now >= deadline && n > 0 {
            return Ok(None);
        }
        let wake = (now + pause).min(deadline);
        tokio::time::sleep_until(wake).await;
        match check().await? {
            Step::Done(t) => return Ok(Some(t)),
            Step::Wait(h) => hint = h,
        }
        n += 1;
        if Instant::now() >= deadline {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_and_stay_within_bounds() {
        let p = Pace::new(Duration::from_millis(200), Duration::from_secs(3));
        assert_eq!(p.pause(0, 0.0), Duration::from_millis(200));
        assert_eq!(p.pause(0, 0.5), Duration::from_millis(210));
        assert_eq!(p.pause(1, 0.5), Duration::from_millis(400));
        assert_eq!(p.pause(10, 0.5), Duration::from_secs(3));
        assert!(p.pause(1, 0.0) >= Duration::from_millis(320));
        assert!(p.pause(1, 1.0) <= Duration::from_millis(480));
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_the_deadline_and_returns_what_is_done() {
        let pace = Pace::new(Duration::from_millis(100), Duration::from_millis(400));
        let start = Instant::now();
        let mut calls = 0;
        let r: Result<Option<()>, ()> = poll(pace, start + Duration::from_secs(2), || {
            calls += 1;
            async { Ok(Step::Wait(None)) }
        })
        .await;
        assert!(r.unwrap().is_none());
        assert!(calls <= 8, "{calls} checks in 2 s");
        assert!(start.elapsed() <= Duration::from_millis(2001));
        let mut n = 0;
        let r: Result<Option<u32>, ()> =
            poll(pace, Instant::now() + Duration::from_secs(9), || {
                n += 1;
                let v = n;
                async move {
                    Ok(if v == 3 {
                        Step::Done(v)
                    } else {
                        Step::Wait(None)
                    })
                }
            })
            .await;
        assert_eq!(r.unwrap(), Some(3));
    }
}
