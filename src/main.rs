//! The `xiaoer` command line: serve (the default), users, export and import.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use xiaoer::config::{LogFormat, ServeArgs};
use xiaoer::desk::{Actor, Desk};
use xiaoer::model::{NewUser, Role, SystemClock};
use xiaoer::store::prelude::*;
use xiaoer::store::{Snapshot, Store, export};

/// 店小二 xiaoer — self-hosted intelligent customer service for small e-commerce shops.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// The data folder (database and search index).
    #[arg(long, global = true, env = "XIAOER_DATA", default_value = "./data")]
    data: PathBuf,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the shop (the default when no command is given).
    Serve(ServeArgs),
    /// Manage console users.
    #[command(subcommand)]
    User(UserCommand),
    /// Import or export the knowledge base.
    #[command(subcommand)]
    Kb(KbCommand),
    /// Manage API tokens for channel bridges.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write every table as JSON Lines to FILE ("-" for standard output); works while
    /// the server runs.
    Export { file: PathBuf },
    /// Load an export FILE into an empty data folder.
    Import { file: PathBuf },
    /// Load past conversations from another system (JSON Lines, one conversation per
    /// line; see the README): all or nothing, and a conversation imported before is
    /// skipped. Run it while the server is stopped.
    ImportHistory { file: PathBuf },
    /// Print the service figures (README, "Metrics") for conversations started from FROM to
    /// TO (shop time zone); works while the server runs.
    Metrics {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD (included).
        #[arg(long)]
        to: String,
        /// Only conversations this agent (login name) wrote in.
        #[arg(long)]
        agent: Option<String>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Measure the bot: build a fresh engine from a KB file (the starter KB is not mixed
    /// in) and answer every query of a labelled query file.
    Eval {
        /// The knowledge base (JSON Lines or .csv).
        #[arg(long)]
        kb: PathBuf,
        /// The queries: JSON Lines of {"query", "expected_id", "expected_intent"?}.
        #[arg(long)]
        queries: PathBuf,
        /// Print the figures as one JSON object on the last line.
        #[arg(long)]
        json: bool,
        /// List every query the bot got wrong.
        #[arg(long)]
        errors: bool,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Import entries from FILE (.csv, else JSON Lines): all or nothing. Entries with an
    /// existing id are replaced; with --replace, entries not in the file are removed.
    Import {
        file: PathBuf,
        #[arg(long)]
        replace: bool,
    },
    /// Export every entry to FILE (.csv with BOM for Excel, else JSON Lines; "-" for
    /// JSON Lines on stdout); works while the server runs.
    Export { file: PathBuf },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; its secret is printed once, on standard output.
    Create {
        /// A name to recognise the token by (e.g. the bridge that uses it).
        name: String,
        /// The channel the token's messages belong to (lowercase letters, digits, - and
        /// _); defaults to NAME.
        #[arg(long)]
        channel: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke the token with this id.
    Revoke { id: u64 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        name: String,
        /// owner, supervisor, agent or trainer.
        #[arg(long)]
        role: String,
        /// Name shown to buyers and colleagues (defaults to the login name).
        #[arg(long, default_value = "")]
        nickname: String,
    },
    /// List users.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Some(Command::Serve(a)) => a.log_format,
        _ => cli.serve.log_format,
    };
    init_logging(log_format);
    for name in xiaoer::config::unknown_env() {
        tracing::warn!(%name, "unknown XIAOER_ environment variable ignored");
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, never a panic trace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    // actix logs a client's malformed request line (bad URI characters, a broken
    // header) at ERROR although it is answered 400 and is nothing for the owner to fix.
    let filter = tracing_subscriber::EnvFilter::try_from_env("XIAOER_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,actix_http::h1::dispatcher=off")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let data = cli.data;
    match cli.command {
        None => serve(cli.serve, data),
        Some(Command::Serve(args)) => serve(args, data),
        Some(Command::User(UserCommand::Add {
            name,
            role,
            nickname,
        })) => user_add(data, name, role, nickname),
        Some(Command::User(UserCommand::List)) => user_list(data),
        Some(Command::Kb(KbCommand::Import { file, replace })) => kb_import(data, &file, replace),
        Some(Command::Kb(KbCommand::Export { file })) => kb_export(data, &file),
        Some(Command::Token(cmd)) => token(data, cmd),
        Some(Command::Export { file }) => export_to(data, file),
        Some(Command::Eval {
            kb,
            queries,
            json,
            errors,
        }) => eval(&kb, &queries, json, errors),
        Some(Command::ImportHistory { file }) => import_history(data, &file),
        Some(Command::Metrics {
            from,
            to,
            agent,
            json,
        }) => metrics(data, &from, &to, agent.as_deref(), json),
        Some(Command::Import { file }) => {
            let summary = export::import(&data, &file)?;
            eprintln!("imported {} rows into {}", summary.total(), data.display());
            Ok(())
        }
    }
}

fn serve(args: ServeArgs, data: PathBuf) -> anyhow::Result<()> {
    let config = args.into_config(data).map_err(anyhow::Error::msg)?;
    actix_web::rt::System::new().block_on(xiaoer::run(config))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("while starting the runtime")
}

fn user_add(data: PathBuf, name: String, role: String, nickname: String) -> anyhow::Result<()> {
    let Some(role) = Role::parse(&role) else {
        bail!("unknown role {role:?}: use owner, supervisor, agent or trainer");
    };
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("while reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let store = Store::open(&data)?;
    let desk = Desk::new(store, std::sync::Arc::new(SystemClock));
    let new = NewUser {
        name,
        nickname,
        role,
        password,
    };
    let user = runtime()?
        .block_on(desk.add_user(&Actor::cli(), new))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("added {} ({}) as {}", user.name, user.nickname, user.role);
    Ok(())
}

fn user_list(data: PathBuf) -> anyhow::Result<()> {
    let snap = Snapshot::open(&data)?;
    let mut out = std::io::stdout().lock();
    for u in snap.tx().list_users()? {
        let state = if u.disabled { "disabled" } else { "active" };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            u.id, u.name, u.nickname, u.role, state
        )?;
    }
    Ok(())
}

fn token(data: PathBuf, cmd: TokenCommand) -> anyhow::Result<()> {
    if let TokenCommand::List = cmd {
        let snap = Snapshot::open(&data)?;
        let mut out = std::io::stdout().lock();
        for t in snap.tx().list_tokens()? {
            let state = if t.revoked { "revoked" } else { "active" };
            let created = t.created_at.format("%Y-%m-%d %H:%M UTC");
            writeln!(
                out,
                "{}\t{}\t{}\t{created}\t{state}",
                t.id, t.name, t.channel
            )?;
        }
        return Ok(());
    }
    let desk = Desk::new(Store::open(&data)?, std::sync::Arc::new(SystemClock));
    let rt = runtime()?;
    let err = |e: xiaoer::desk::Error| anyhow::anyhow!("{e}");
    match cmd {
        TokenCommand::Create { name, channel } => {
            let named = channel.is_none();
            let channel = channel.unwrap_or_else(|| name.clone());
            let (t, secret) = rt
                .block_on(desk.create_token(&Actor::cli(), &name, &channel))
                .map_err(|e| match e {
                    // The channel was taken from the name: say so, and how to choose one.
                    xiaoer::desk::Error::Invalid(_) if named => anyhow::anyhow!(
                        "without --channel the channel is the token's name, and {e}; \
                         give one, e.g. --channel qianniu"
                    ),
                    e => err(e),
                })?;
            println!("{secret}");
            eprintln!(
                "created token {} ({}) for channel {}; the secret above is shown only once",
                t.id, t.name, t.channel
            );
        }
        TokenCommand::Revoke { id } => {
            let t = rt
                .block_on(desk.revoke_token(&Actor::cli(), id))
                .map_err(|e| match e {
                    xiaoer::desk::Error::NotFound => anyhow::anyhow!("no token with id {id}"),
                    e => err(e),
                })?;
            eprintln!("revoked token {} ({})", t.id, t.name);
        }
        TokenCommand::List => {}
    }
    Ok(())
}

fn export_to(data: PathBuf, file: PathBuf) -> anyhow::Result<()> {
    let snap = Snapshot::open(&data)?;
    let summary = if file.as_os_str() == "-" {
        export::export(snap.tx(), &mut std::io::stdout().lock())?
    } else {
        // Write beside the target and rename, so a failed export never leaves a
        // half-written file under the final name.
        let mut tmp = file.clone().into_os_string();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        let f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(f);
        let summary = export::export(snap.tx(), &mut w)?;
        w.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &file)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), file.display()))?;
        summary
    };
    eprintln!("exported {} rows from {}", summary.total(), data.display());
    Ok(())
}

fn bad_lines(path: &std::path::Path, bad: &[(usize, String)]) -> anyhow::Error {
    let mut msg = format!("{}: {} bad line(s)", path.display(), bad.len());
    for (n, why) in bad.iter().take(20) {
        msg.push_str(&format!("\n  line {n}: {why}"));
    }
    anyhow::anyhow!(msg)
}

fn eval(
    kb: &std::path::Path,
    queries: &std::path::Path,
    json: bool,
    errors: bool,
) -> anyhow::Result<()> {
    use xiaoer::bot::{Engine, KbData, eval, index::Location, kbfile};
    let open = |p: &std::path::Path| {
        std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let tz = chrono_tz::Asia::Shanghai;
    let entries = kbfile::read(open(kb)?, kbfile::Format::from_path(kb), tz)
        .map_err(|b| bad_lines(kb, &b))?;
    let qs = eval::read_queries(std::io::BufReader::new(open(queries)?))
        .map_err(|b| bad_lines(queries, &b))?;
    let dir = tempfile::tempdir().context("while creating a temporary index folder")?;
    let started = std::time::Instant::now();
    let n = entries.len();
    let engine = Engine::open(
        Location::Dir(dir.path().join("index")),
        KbData {
            entries,
            ..KbData::default()
        },
    )?;
    let built = started.elapsed();
    let settings = xiaoer::model::ShopSettings::default();
    let (report, kinds, misses) = eval::run(&engine, &qs, &settings);
    let mut out = std::io::stdout().lock();
    if errors {
        for m in &misses {
            writeln!(
                out,
                "{}\texpected {}{}\tgot {} ({:?} {:.2})",
                m.query,
                m.expected,
                m.rank.map(|r| format!(" (#{r})")).unwrap_or_default(),
                m.got,
                m.band,
                m.confidence
            )?;
        }
    }
    writeln!(
        out,
        "kb: {n} entries (engine built in {} ms); queries: {}",
        built.as_millis(),
        qs.len()
    )?;
    writeln!(
        out,
        "answerable {}: top1 {:.3}  answered correct {:.3} / wrong {:.3}  guided hit {:.3}  fallback {:.3}",
        report.answerable,
        report.top1,
        report.answered_correct,
        report.answered_wrong,
        report.guided_hit,
        report.fallback
    )?;
    writeln!(
        out,
        "out of scope {}: false answer {:.3}",
        report.out_of_scope, report.false_answer
    )?;
    writeln!(
        out,
        "intents {}: correct {:.3}",
        report.intents, report.intent_correct
    )?;
    writeln!(
        out,
        "latency per reply: p50 {} us, p99 {} us",
        report.p50_us, report.p99_us
    )?;
    if kinds.len() > 1 {
        for (kind, (count, top1, correct)) in &kinds {
            writeln!(
                out,
                "  {kind:<20} {count:>5}  top1 {top1:.3}  answered correct {correct:.3}"
            )?;
        }
    }
    if json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    }
    Ok(())
}

fn kb_import(data: PathBuf, file: &std::path::Path, replace: bool) -> anyhow::Result<()> {
    use xiaoer::bot::kbfile;
    let store = Store::open(&data)?;
    let tz = store.read()?.get_settings()?.tz();
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    // Every bad row at once: the file's own, then those against the KB.
    let (rows, mut bad) = kbfile::read_checked(input, kbfile::Format::from_path(file), tz);
    let desk = Desk::new(store, std::sync::Arc::new(SystemClock));
    bad.extend(desk.kb_import_problems(&rows, replace)?);
    if !bad.is_empty() {
        bad.sort_by_key(|(line, _)| *line);
        return Err(bad_lines(file, &bad));
    }
    let entries = rows.into_iter().map(|(_, e)| e).collect();
    let s = runtime()?
        .block_on(desk.import_kb(&Actor::cli(), entries, replace))
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    eprintln!(
        "imported {}: {} added, {} replaced, {} unchanged, {} removed (the server re-indexes at its next start)",
        file.display(),
        s.added,
        s.replaced,
        s.unchanged,
        s.removed
    );
    Ok(())
}

fn kb_export(data: PathBuf, file: &std::path::Path) -> anyhow::Result<()> {
    use xiaoer::bot::kbfile::{self, Format};
    let snap = Snapshot::open(&data)?;
    let entries = snap.tx().list_entries()?;
    let tz = snap.tx().get_settings()?.tz();
    if file.as_os_str() == "-" {
        kbfile::write(
            &mut std::io::stdout().lock(),
            &entries,
            Format::JsonLines,
            tz,
        )?;
    } else {
        let mut out = Vec::new();
        kbfile::write(&mut out, &entries, Format::from_path(file), tz)?;
        std::fs::write(file, out).with_context(|| format!("cannot write {}", file.display()))?;
    }
    eprintln!("exported {} entries", entries.len());
    Ok(())
}

fn day(s: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("{s:?} is not a date like 2026-11-22"))
}

fn metrics(
    data: PathBuf,
    from: &str,
    to: &str,
    agent: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    use xiaoer::metrics::{Figures, Shop, load};
    let (from, to) = (day(from)?, day(to)?);
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let snap = Snapshot::open(&data)?;
    let settings = snap.tx().get_settings()?;
    let shop = Shop {
        tz: settings.tz(),
        staffed: settings.staffed,
    };
    let mut timelines = load::timelines(snap.tx(), from, to, shop.tz)?;
    if let Some(a) = agent {
        // The agent's part of each conversation they served, as the dashboard counts it.
        let mine: Vec<_> = timelines
            .iter()
            .filter_map(|t| t.share(a).map(std::borrow::Cow::into_owned))
            .collect();
        // Imported history names agents who have no account here.
        if mine.is_empty() && snap.tx().get_user_by_name(a)?.is_none() {
            bail!(
                "no user named {a:?}, and nobody of that name served a buyer from {from} to {to}"
            );
        }
        timelines = mine;
    }
    let figures = Figures::of(&timelines, shop);
    let mut value = serde_json::to_value(&figures)?;
    value["from"] = from.to_string().into();
    value["to"] = to.to_string().into();
    value["agent"] = agent.map(String::from).into();
    if json {
        println!("{value}");
    } else {
        let who = agent.map(|a| format!("（客服 {a}）")).unwrap_or_default();
        println!("数据指标 {from} 至 {to}{who}");
        for (key, name, unit) in xiaoer::metrics::FIGURE_NAMES {
            let shown = xiaoer::metrics::shown(value[*key].as_f64(), *unit);
            println!("{name}\t{shown}");
        }
    }
    Ok(())
}

fn import_history(data: PathBuf, file: &std::path::Path) -> anyhow::Result<()> {
    use xiaoer::desk::import;
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let convs = match import::read(std::io::BufReader::new(input)) {
        Ok(c) => c,
        Err(bad) => {
            for (line, why) in bad.iter().take(50) {
                eprintln!("{}:{line}: {why}", file.display());
            }
            bail!(
                "{}: {} bad line(s); nothing was imported",
                file.display(),
                bad.len()
            );
        }
    };
    let store = Store::open(&data)?;
    let desk = Desk::new(store, std::sync::Arc::new(SystemClock));
    let s = runtime()?.block_on(desk.import_history(&Actor::cli(), convs))?;
    eprintln!(
        "imported {} conversations ({} messages); {} imported before were skipped",
        s.imported, s.messages, s.skipped
    );
    Ok(())
}
