//! Login rate limiting, per client address and per account, in memory. After too many
//! failures in the window the key is locked for a while, even for the right password.

use crate::model::Clock;
use crate::model::user::name_key;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures per account within `window` before it is locked.
    pub per_account: usize,
    /// Failures per client address within `window` before it is locked.
    pub per_ip: usize,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_account: 5,
            per_ip: 20,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

#[derive(Default)]
struct Track {
    failures: VecDeque<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
}

/// Failures by key, pruned when the map grows (a flood of random names or addresses
/// cannot exhaust memory).
struct Ledger<K> {
    tracks: HashMap<K, Track>,
    limit: usize,
}

const PRUNE_AT: usize = 10_000;

impl<K: Eq + Hash + Clone> Ledger<K> {
    fn new(limit: usize) -> Ledger<K> {
        Ledger {
            tracks: HashMap::new(),
            limit,
        }
    }

    fn locked(&self, k: &K, now: DateTime<Utc>) -> Option<Duration> {
        let until = self.tracks.get(k)?.locked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&mut self, k: K, now: DateTime<Utc>, limits: &Limits) {
        self.count(k, now, limits.window, limits.lockout);
    }

    /// Takes back the failure counted for `k` at `at`: the attempt turned out right.
    /// When that failure was the one that locked `k`, the lock goes with it.
    fn withdraw(&mut self, k: &K, at: DateTime<Utc>, lockout: Duration) {
        let Some(t) = self.tracks.get_mut(k) else {
            return;
        };
        if let Some(i) = t.failures.iter().rposition(|&f| f == at) {
            t.failures.remove(i);
        } else if t.locked_until == Some(at + lockout) {
            t.locked_until = None;
        }
    }

    /// Counts one event of `k`; `limit` of them within `window` lock `k` for `lockout`.
    fn count(&mut self, k: K, now: DateTime<Utc>, window: Duration, lockout: Duration) {
        if self.tracks.len() >= PRUNE_AT {
            self.tracks.retain(|_, t| {
                t.locked_until.is_some_and(|u| u > now)
                    || t.failures.back().is_some_and(|&f| f + window > now)
            });
        }
        let t = self.tracks.entry(k).or_default();
        t.failures.push_back(now);
        while t.failures.front().is_some_and(|&f| f + window <= now) {
            t.failures.pop_front();
        }
        if t.failures.len() >= self.limit {
            t.locked_until = Some(now + lockout);
            t.failures.clear();
        }
    }
}

struct Ledgers {
    by_ip: Ledger<IpAddr>,
    by_account: Ledger<String>,
}

/// The login rate limiter shared by all workers.
pub struct LoginLimiter {
    clock: Arc<dyn Clock>,
    limits: Limits,
    ledgers: Mutex<Ledgers>,
}

impl LoginLimiter {
    /// A limiter with `limits`, telling time by `clock`.
    pub fn new(clock: Arc<dyn Clock>, limits: Limits) -> LoginLimiter {
        LoginLimiter {
            clock,
            limits,
            ledgers: Mutex::new(Ledgers {
                by_ip: Ledger::new(limits.per_ip),
                by_account: Ledger::new(limits.per_account),
            }),
        }
    }

    fn ledgers(&self) -> std::sync::MutexGuard<'_, Ledgers> {
        self.ledgers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a login attempt: `Err(wait)` when `ip` or `account` is locked out;
    /// otherwise the attempt is counted as a failure right away, so parallel guesses
    /// count too. A successful login then hands the attempt back to `succeeded`.
    pub fn attempt(&self, ip: Option<IpAddr>, account: &str) -> Result<Attempt, Duration> {
        let now = self.clock.now();
        let mut l = self.ledgers();
        let key = name_key(account);
        let by_ip = ip.and_then(|ip| l.by_ip.locked(&ip, now));
        let by_account = l.by_account.locked(&key, now);
        if let Some(wait) = by_ip.into_iter().chain(by_account).max() {
            return Err(wait);
        }
        if let Some(ip) = ip {
            l.by_ip.fail(ip, now, &self.limits);
        }
        l.by_account.fail(key, now, &self.limits);
        Ok(Attempt { ip, at: now })
    }

    /// Forgets the account's failures after a successful login. The address only
    /// loses the failure this attempt was counted as: its other failures stay (one
    /// right password does not excuse a spray over many accounts), and a team behind
    /// one address can log in all day.
    pub fn succeeded(&self, attempt: Attempt, account: &str) {
        let mut l = self.ledgers();
        l.by_account.tracks.remove(&name_key(account));
        if let Some(ip) = attempt.ip {
            l.by_ip.withdraw(&ip, attempt.at, self.limits.lockout);
        }
    }
}

/// A login attempt under way, counted as a failure until `LoginLimiter::succeeded`.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    ip: Option<IpAddr>,
    at: DateTime<Utc>,
}

/// A rate limit per key (e.g. per web-chat buyer): at most `limit` events within
/// `window`; beyond that the key waits out the window.
pub struct Throttle {
    clock: Arc<dyn Clock>,
    window: Duration,
    ledger: Mutex<Ledger<String>>,
}

impl Throttle {
    /// `limit` events per `window`, telling time by `clock`.
    pub fn new(clock: Arc<dyn Clock>, limit: usize, window: Duration) -> Throttle {
        Throttle {
            clock,
            window,
            ledger: Mutex::new(Ledger::new(limit + 1)),
        }
    }

    /// Counts an event of `key`: `Err(wait)` when `key` is over its limit.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        let mut l = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(wait) = l.locked(&key.to_string(), now) {
            return Err(wait);
        }
        l.count(key.to_string(), now, self.window, self.window);
        match l.locked(&key.to_string(), now) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }
}

/// "15 分钟" style text for a wait.
pub fn wait_label(wait: Duration) -> String {
    let minutes = (wait.num_seconds() + 59) / 60;
    format!("{} 分钟", minutes.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ManualClock;

    fn limiter() -> (LoginLimiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        (LoginLimiter::new(clock.clone(), Limits::default()), clock)
    }

    #[test]
    fn account_locks_after_five_failures_then_unlocks() {
        let (l, clock) = limiter();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(l.attempt(Some(ip), "Boss").is_ok());
        }
        let wait = l.attempt(None, "BOSS").unwrap_err();
        assert_eq!(wait_label(wait), "15 分钟");
        // Other accounts from elsewhere are unaffected.
        assert!(l.attempt(None, "agent").is_ok());
        clock.advance(Duration::minutes(15));
        assert!(l.attempt(Some(ip), "boss").is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let (l, clock) = limiter();
        for _ in 0..10 {
            assert!(l.attempt(None, "boss").is_ok());
            clock.advance(Duration::minutes(4));
        }
    }

    #[test]
    fn one_address_trying_many_accounts_is_locked() {
        let (l, _clock) = limiter();
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        for i in 0..20 {
            assert!(l.attempt(Some(ip), &format!("user{i}")).is_ok());
        }
        assert!(l.attempt(Some(ip), "fresh-name").is_err());
        assert!(
            l.attempt(Some("10.0.0.3".parse().unwrap()), "fresh-name")
                .is_ok()
        );
    }

    #[test]
    fn a_throttle_allows_its_limit_per_window_per_key() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let t = Throttle::new(clock.clone(), 3, Duration::seconds(10));
        for _ in 0..3 {
            assert!(t.hit("a").is_ok());
        }
        assert_eq!(t.hit("a"), Err(Duration::seconds(10)));
        assert!(t.hit("b").is_ok(), "other keys are not affected");
        clock.advance(Duration::seconds(10));
        assert!(t.hit("a").is_ok());
    }

    #[test]
    fn successful_logins_from_one_address_never_lock_it() {
        let (l, clock) = limiter();
        let ip: IpAddr = "10.0.0.4".parse().unwrap();
        for i in 0..100 {
            let a = l.attempt(Some(ip), &format!("agent{}", i % 7)).unwrap();
            l.succeeded(a, &format!("agent{}", i % 7));
            clock.advance(Duration::seconds(5));
        }
        // Wrong passwords from the same address still add up to its lock.
        for i in 0..20 {
            let _ = l.attempt(Some(ip), &format!("guess{i}")).unwrap();
        }
        assert!(l.attempt(Some(ip), "agent1").is_err());
    }

    #[test]
    fn a_success_that_reaches_the_address_limit_does_not_lock_it() {
        let (l, _clock) = limiter();
        let ip: IpAddr = "10.0.0.5".parse().unwrap();
        for i in 0..19 {
            let _ = l.attempt(Some(ip), &format!("user{i}")).unwrap();
        }
        let a = l.attempt(Some(ip), "boss").unwrap();
        l.succeeded(a, "boss");
        assert!(l.attempt(Some(ip), "boss").is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let (l, _clock) = limiter();
        let mut last = None;
        for _ in 0..4 {
            last = Some(l.attempt(None, "boss").unwrap());
        }
        l.succeeded(last.unwrap(), "boss");
        for _ in 0..4 {
            assert!(l.attempt(None, "boss").is_ok());
        }
        assert!(
            l.attempt(None, "boss").is_ok(),
            "the fifth attempt after a success"
        );
    }
}
