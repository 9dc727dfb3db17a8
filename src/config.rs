//! Configuration: one explicit `Config`, built from command-line flags and `XIAOER_*`
//! environment variables (see `ServeArgs`), or directly in tests.

use clap::Args;
use std::path::PathBuf;

/// Everything the server needs to know that is not in the database.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data folder (`xiaoer.redb`, `index/`).
    pub data_dir: PathBuf,
    /// Address to listen on, `host:port`.
    pub listen: String,
    /// The address buyers and agents use, e.g. `https://kefu.example.com`. An `https`
    /// address marks cookies `Secure`.
    pub public_url: Option<String>,
    /// Take the client address from `X-Forwarded-For` (only behind a reverse proxy).
    pub trust_proxy: bool,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
}

impl Config {
    /// Defaults for `data_dir`: listen on 127.0.0.1:8080, no proxy.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen: DEFAULT_LISTEN.into(),
            public_url: None,
            trust_proxy: false,
            workers: 0,
        }
    }

    /// Whether cookies must carry `Secure` (the public address is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags of `xiaoer serve` (also accepted with no subcommand).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "XIAOER_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: String,
    /// Public address of this server (https://… makes cookies Secure).
    #[arg(long, env = "XIAOER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Trust X-Forwarded-For for client addresses (set only behind a reverse proxy).
    #[arg(long, env = "XIAOER_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "XIAOER_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Log format.
    #[arg(long, env = "XIAOER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl ServeArgs {
    /// The config for the data folder `data_dir`; checks the public address.
    pub fn into_config(self, data_dir: PathBuf) -> Result<Config, String> {
        if let Some(u) = &self.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(format!(
                "--public-url must start with http:// or https:// (got {u:?})"
            ));
        }
        Ok(Config {
            data_dir,
            listen: self.listen,
            public_url: self.public_url.map(|u| u.trim_end_matches('/').to_string()),
            trust_proxy: self.trust_proxy,
            workers: self.workers,
        })
    }
}

/// Every environment variable xiaoer reads; others starting with `XIAOER_` are warned
/// about at start-up (a typo would otherwise be silently ignored).
pub const KNOWN_ENV: &[&str] = &[
    "XIAOER_DATA",
    "XIAOER_LISTEN",
    "XIAOER_PUBLIC_URL",
    "XIAOER_TRUST_PROXY",
    "XIAOER_WORKERS",
    "XIAOER_LOG",
    "XIAOER_LOG_FORMAT",
];

/// Names of set `XIAOER_*` variables that xiaoer does not know.
pub fn unknown_env() -> Vec<String> {
    std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("XIAOER_") && !KNOWN_ENV.contains(&k.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_public_url_means_secure_cookies() {
        let mut c = Config::new("d");
        assert!(!c.secure_cookies());
        c.public_url = Some("https://kefu.example.com".into());
        assert!(c.secure_cookies());
    }

    #[test]
    fn public_url_must_be_http() {
        let args = ServeArgs {
            listen: DEFAULT_LISTEN.into(),
            public_url: Some("kefu.example.com".into()),
            trust_proxy: false,
            workers: 0,
            log_format: LogFormat::Text,
        };
        assert!(args.into_config("d".into()).is_err());
    }
}
