//! The SQLite ceiling of `bench/run.sh --sqlite`: runs a scenario's statements (a file of
//! `bench/sqlite/`) straight against the server's SQLite file, with as many connections as
//! the server's pool and the same per-connection settings (WAL, `synchronous=NORMAL`, a 5 s
//! busy timeout, foreign keys on), for a fixed time, and prints the transactions per second.
//! A transaction is one pass over the file's statements: what one request of the scenario
//! asks the database. Like `pgbench -M prepared`, each statement is prepared once per
//! connection (sqlx's statement cache) and its parameters are bound.
//!
//! ```text
//! sqlite-ceiling --db FILE --file bench/sqlite/s1.sql [--connections 10] [--duration 10]
//!                [-D name=value ...]
//! ```
//!
//! The file's syntax, a small part of pgbench's:
//! - `-- ...` and empty lines are ignored.
//! - `\set NAME random(LO, HI)`: a uniform integer in [LO, HI]; `\set NAME TERM`: a copy;
//!   `\set NAME choice('a', 'b', ...)`: one of the strings, uniformly. A TERM is an integer,
//!   `:var`, or `:var + N` / `:var - N`; `-D name=value` defines integers before the run.
//! - Any other line is SQL; a statement ends with the line that ends with `;`. `:name` in it
//!   (outside quotes) becomes a bound parameter with the variable's current value.
//! - `\next` ends a transaction: a file with several sends them in turn on each connection,
//!   the variables kept (e.g. a vote, then its withdrawal, on the pair drawn before). Each
//!   counts as one transaction; a connection stops only after the file's last one, so such a
//!   cycle is left complete.
//!
//! Prints `tps = T (N transactions in S s on C connections, E errors)`; a failed statement
//! is counted as an error, its transaction abandoned (rolled back if one was open) and the
//! first error of each kind printed on stderr.
use std::collections::HashMap;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

#[derive(Clone, Debug)]
enum Val {
    Int(i64),
    Text(String),
}

#[derive(Clone, Debug)]
enum Term {
    Int(i64),
    Var(String, i64),
}

#[derive(Clone, Debug)]
enum Expr {
    Random(Term, Term),
    Choice(Vec<String>),
    Term(Term),
}

#[derive(Clone, Debug)]
enum Cmd {
    Set(String, Expr),
    /// The statement (kept for the whole run, as sqlx wants a `&'static str` for SQL it has
    /// not seen audited) and its parameters' names.
    Sql(&'static str, Vec<String>),
}

fn parse_term(s: &str) -> Result<Term, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix(':') {
        let (name, off) = match rest.find(['+', '-']) {
            Some(i) => {
                let n: i64 = rest[i + 1..].trim().parse().map_err(|_| format!("bad term {s}"))?;
                (rest[..i].trim(), if &rest[i..=i] == "-" { -n } else { n })
            }
            None => (rest.trim(), 0),
        };
        Ok(Term::Var(name.to_string(), off))
    } else {
        s.parse().map(Term::Int).map_err(|_| format!("bad term {s}"))
    }
}

fn parse_set(rest: &str) -> Result<Cmd, String> {
    let rest = rest.trim();
    let (name, expr) = rest.split_once(char::is_whitespace).ok_or(format!("bad \\set {rest}"))?;
    let expr = expr.trim();
    let inner = |prefix: &str| {
        expr.strip_prefix(prefix)
            .and_then(|e| e.trim().strip_prefix('('))
            .and_then(|e| e.strip_suffix(')'))
    };
    let e = if let Some(args) = inner("random") {
        let (lo, hi) = args.split_once(',').ok_or(format!("bad random {expr}"))?;
        Expr::Random(parse_term(lo)?, parse_term(hi)?)
    } else if let Some(args) = inner("choice") {
        let words = args
            .split(',')
            .map(|w| {
                let w = w.trim();
                w.strip_prefix('\'')
                    .and_then(|w| w.strip_suffix('\''))
                    .map(str::to_string)
                    .ok_or(format!("bad choice {w}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Expr::Choice(words)
    } else {
        Expr::Term(parse_term(expr)?)
    };
    Ok(Cmd::Set(name.to_string(), e))
}

/// `:name` outside single quotes becomes `?`, the names returned in order.
fn parse_sql(sql: &str) -> (String, Vec<String>) {
    let (mut out, mut names, mut quoted) = (String::new(), Vec::new(), false);
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
        }
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if !quoted && c == ':' && i + 1 < chars.len() && ident(chars[i + 1]) && (i == 0 || chars[i - 1] != ':') {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && ident(chars[end]) {
                end += 1;
            }
            names.push(chars[start..end].iter().collect());
            out.push('?');
            i = end;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, names)
}

fn parse_script(text: &str) -> Result<Vec<Vec<Cmd>>, String> {
    let (mut parts, mut cmds, mut pending) = (Vec::new(), Vec::new(), String::new());
    for line in text.lines() {
        let t = line.trim();
        if pending.is_empty() && (t.is_empty() || t.starts_with("--")) {
            continue;
        }
        if pending.is_empty() {
            if let Some(rest) = t.strip_prefix("\\set ") {
                cmds.push(parse_set(rest)?);
                continue;
            }
            if t == "\\next" {
                parts.push(std::mem::take(&mut cmds));
                continue;
            }
            if t.starts_with('\\') {
                return Err(format!("unknown command {t}"));
            }
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        if t.ends_with(';') {
            let (sql, names) = parse_sql(&pending);
            cmds.push(Cmd::Sql(Box::leak(sql.into_boxed_str()), names));
            pending.clear();
        }
    }
    if !pending.trim().is_empty() {
        return Err("the last statement has no closing ;".into());
    }
    parts.push(cmds);
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        return Err("no statements".into());
    }
    Ok(parts)
}

/// xorshift64*: enough for drawing parameters, and no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

fn term(t: &Term, vars: &HashMap<String, Val>) -> Result<i64, String> {
    match t {
        Term::Int(n) => Ok(*n),
        Term::Var(name, off) => match vars.get(name) {
            Some(Val::Int(n)) => Ok(n + off),
            Some(Val::Text(_)) => Err(format!(":{name} is not a number")),
            None => Err(format!(":{name} is not set")),
        },
    }
}

struct Totals {
    done: AtomicU64,
    errors: AtomicU64,
    measuring: AtomicBool,
}

async fn client(
    options: SqliteConnectOptions,
    parts: Arc<Vec<Vec<Cmd>>>,
    defines: HashMap<String, Val>,
    seed: u64,
    until: Instant,
    totals: Arc<Totals>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
) -> Result<(), String> {
    let mut conn = options.connect().await.map_err(|e| e.to_string())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    let mut vars = defines;
    let mut k = 0;
    // A connection stops at the end of the file's last transaction, so that a file of several
    // (a vote, then its withdrawal) leaves nothing behind.
    while Instant::now() < until || k % parts.len() != 0 {
        let part = &parts[k % parts.len()];
        k += 1;
        let mut failed = None;
        for cmd in part {
            match cmd {
                Cmd::Set(name, e) => {
                    let v = match e {
                        Expr::Random(lo, hi) => Val::Int(rng.range(term(lo, &vars)?, term(hi, &vars)?)),
                        Expr::Choice(words) => Val::Text(words[rng.range(0, words.len() as i64 - 1) as usize].clone()),
                        Expr::Term(t) => Val::Int(term(t, &vars)?),
                    };
                    vars.insert(name.clone(), v);
                }
                Cmd::Sql(sql, names) => {
                    let mut q = sqlx::query(*sql);
                    for n in names {
                        q = match vars.get(n) {
                            Some(Val::Int(i)) => q.bind(*i),
                            Some(Val::Text(s)) => q.bind(s.clone()),
                            None => return Err(format!(":{n} is not set")),
                        };
                    }
                    if let Err(e) = q.fetch_all(&mut conn).await {
                        failed = Some(e.to_string());
                        break;
                    }
                }
            }
        }
        let measuring = totals.measuring.load(Ordering::Relaxed);
        match failed {
            None if measuring => {
                totals.done.fetch_add(1, Ordering::Relaxed);
            }
            None => {}
            Some(e) => {
                if measuring {
                    totals.errors.fetch_add(1, Ordering::Relaxed);
                }
                // A transaction the file opened is rolled back (an error when none is open,
                // ignored).
                let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                let mut seen = seen.lock().map_err(|e| e.to_string())?;
                if !seen.contains(&e) {
                    eprintln!("sqlite-ceiling: {e}");
                    seen.push(e);
                }
            }
        }
    }
    conn.close().await.map_err(|e| e.to_string())
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: sqlite-ceiling --db FILE --file SCRIPT [--connections 10] [--duration 10] \
         [--warmup 0] [-D name=value ...]"
    );
    ExitCode::from(2)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let (mut db, mut file, mut conns, mut secs, mut warmup) = (None, None, 10usize, 10f64, 0f64);
    let mut defines = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next();
        match a.as_str() {
            "--db" => db = value(),
            "--file" | "-f" => file = value(),
            "--connections" | "-c" => match value().and_then(|v| v.parse().ok()) {
                Some(v) => conns = v,
                None => return usage(),
            },
            "--duration" | "-T" => match value().and_then(|v| v.parse().ok()) {
                Some(v) => secs = v,
                None => return usage(),
            },
            "--warmup" => match value().and_then(|v| v.parse().ok()) {
                Some(v) => warmup = v,
                None => return usage(),
            },
            "-D" => match value().as_deref().and_then(|d| d.split_once('=')).map(|(k, v)| (k.to_string(), v.parse::<i64>())) {
                Some((k, Ok(v))) => {
                    defines.insert(k, Val::Int(v));
                }
                _ => return usage(),
            },
            _ => return usage(),
        }
    }
    let (Some(db), Some(file)) = (db, file) else { return usage() };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sqlite-ceiling: {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let parts = match parse_script(&text) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("sqlite-ceiling: {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = if db.starts_with("sqlite:") { db } else { format!("sqlite://{db}") };
    // The server's settings for its request connections (service::db::connect).
    let options = match SqliteConnectOptions::from_str(&url) {
        Ok(o) => o
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true),
        Err(e) => {
            eprintln!("sqlite-ceiling: {url}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let totals = Arc::new(Totals {
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        measuring: AtomicBool::new(warmup <= 0.0),
    });
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let begin = Instant::now();
    let start = begin + Duration::from_secs_f64(warmup.max(0.0));
    let until = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..conns)
        .map(|i| {
            tokio::spawn(client(options.clone(), parts.clone(), defines.clone(), i as u64 + 1, until, totals.clone(), seen.clone()))
        })
        .collect();
    if warmup > 0.0 {
        tokio::time::sleep_until(start.into()).await;
        totals.measuring.store(true, Ordering::Relaxed);
    }
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("sqlite-ceiling: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("sqlite-ceiling: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let elapsed = (Instant::now() - start).as_secs_f64();
    let done = totals.done.load(Ordering::Relaxed);
    println!(
        "tps = {:.1} ({done} transactions in {elapsed:.1} s on {conns} connections, {} errors)",
        done as f64 / elapsed,
        totals.errors.load(Ordering::Relaxed)
    );
    ExitCode::SUCCESS
}
