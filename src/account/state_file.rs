//! What an account has seen, kept in a file of the host's state folder (`AccountOptions::
//! state_dir`), so that a restart or an upgrade neither answers a message again nor misses
//! what was posted meanwhile: the per-room watermarks and the recent ids of
//! [`crate::inbound::dedupe`], one file per account.
//!
//! Writes are batched (the supervisor saves on a short timer and at stop) and crash-safe: a
//! temporary file is written and flushed to disk, renamed over the old one, and the folder is
//! flushed, so a crash leaves either the old or the new file, never half of one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::event::{Event, LogLevel};
use crate::event_queue::EventQueue;
use crate::inbound::dedupe::SeenState;

/// How often a changed state is saved while the account runs.
pub const SAVE_EVERY: Duration = Duration::from_secs(2);

/// Names this file's kind, so another program's JSON is never taken for ours.
const FORMAT: &str = "openclaw-rocketchat/seen";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    format: String,
    version: u32,
    account_id: String,
    /// The bot's user id: the same account id pointed at another server or bot starts fresh.
    user_id: String,
    #[serde(flatten)]
    seen: SeenState,
}

/// What was found at start.
#[derive(Debug)]
pub enum Loaded {
    /// No file yet: a first start.
    Absent,
    /// The state of the previous run.
    Restored(SeenState),
    /// A file that cannot be used (the warning says which and why); a fresh start is made.
    Unusable(String),
}

/// One account's state file.
pub struct StateFile {
    path: PathBuf,
    account_id: String,
    user_id: String,
    queue: Arc<EventQueue>,
    writing: Option<JoinHandle<()>>,
}

impl StateFile {
    /// The file of `account_id` in `dir`, for the bot `user_id`; problems are reported on `queue`.
    pub fn new(dir: &Path, account_id: &str, user_id: &str, queue: Arc<EventQueue>) -> Self {
        StateFile {
            path: dir.join(file_name(account_id)),
            account_id: account_id.to_owned(),
            user_id: user_id.to_owned(),
            queue,
            writing: None,
        }
    }

    /// Read the file (at start; off the runtime's threads, as a save is).
    pub async fn load(&self) -> Loaded {
        let (path, account_id, user_id) = (
            self.path.clone(),
            self.account_id.clone(),
            self.user_id.clone(),
        );
        tokio::task::spawn_blocking(move || read(&path, &account_id, &user_id))
            .await
            .unwrap_or_else(|e| Loaded::Unusable(format!("reading the state file failed: {e}")))
    }

    /// Whether a background save still runs.
    pub fn saving(&self) -> bool {
        self.writing.as_ref().is_some_and(|w| !w.is_finished())
    }

    /// Save `state` in the background. Call only when not [`StateFile::saving`], so saves
    /// never overtake each other.
    pub fn save_soon(&mut self, state: SeenState) {
        let job = self.job(state);
        self.writing = Some(tokio::task::spawn_blocking(job));
    }

    /// Save `state` now, after any save still running (at stop).
    pub async fn save_now(&mut self, state: SeenState) {
        if let Some(w) = self.writing.take() {
            let _ = w.await;
        }
        let _ = tokio::task::spawn_blocking(self.job(state)).await;
    }

    fn job(&self, seen: SeenState) -> impl FnOnce() + Send + 'static {
        let path = self.path.clone();
        let account_id = self.account_id.clone();
        let body = Body {
            format: FORMAT.to_owned(),
            version: VERSION,
            account_id: self.account_id.clone(),
            user_id: self.user_id.clone(),
            seen,
        };
        let queue = self.queue.clone();
        move || {
            let written = serde_json::to_vec(&body)
                .map_err(io::Error::other)
                .and_then(|bytes| write_atomically(&path, &bytes));
            if let Err(e) = written {
                let message = format!(
                    "account {account_id}: cannot save the state file {}: {e}; a restart may answer recent messages again",
                    path.display()
                );
                tracing::warn!("{message}");
                queue.push(
                    Some(&account_id),
                    Event::Log {
                        level: LogLevel::Warn,
                        message,
                    },
                );
            }
        }
    }
}

/// [`StateFile::load`]'s work.
fn read(path: &Path, account_id: &str, user_id: &str) -> Loaded {
    let unusable = |why: String| {
        Loaded::Unusable(format!(
            "account {account_id}: state file {} {why}; starting fresh (messages posted while the gateway was down are not caught up this once)",
            path.display()
        ))
    };
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Loaded::Absent,
        Err(e) => return unusable(format!("cannot be read ({e})")),
    };
    let body: Body = match serde_json::from_str(&text) {
        Ok(body) => body,
        Err(e) => return unusable(format!("is not a valid state file ({e})")),
    };
    if body.format != FORMAT || body.version != VERSION {
        return unusable(format!(
            "has format {:?} version {}, not {FORMAT:?} version {VERSION}",
            body.format, body.version
        ));
    }
    if body.account_id != account_id || body.user_id != user_id {
        return unusable(format!(
            "belongs to account {:?} (bot user {}), not {account_id:?} (bot user {user_id})",
            body.account_id, body.user_id
        ));
    }
    Loaded::Restored(body.seen)
}

/// The file name of an account: letters, digits, `-` and `_` kept, every other byte written
/// `~hh`, so distinct ids never share a file and none escapes the folder.
pub fn file_name(account_id: &str) -> String {
    let mut name = String::from("account-");
    for b in account_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            name.push(b as char);
        } else {
            name.push_str(&format!("~{b:02x}"));
        }
    }
    name.push_str(".json");
    name
}

/// Replace `path` with `bytes` so that a crash leaves the old or the new content.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Make the rename itself durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows has no folder handle to flush; its rename is durable once it returns.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::dedupe::RoomMark;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "rc-state-{tag}-{}-{}",
            std::process::id(),
            crate::event::now_ms()
        ));
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn sample() -> SeenState {
        let mut s = SeenState::default();
        s.rooms.insert(
            "GENERAL".into(),
            RoomMark {
                ts: 5,
                ids: vec!["a".into()],
                seen_until: 9,
            },
        );
        s.recent.push(("a".into(), Some(9)));
        s
    }

    fn file(dir: &Path, account: &str, user: &str) -> StateFile {
        StateFile::new(dir, account, user, Arc::new(EventQueue::new(16)))
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(file_name("default"), "account-default.json");
        assert_eq!(file_name("../x"), "account-~2e~2e~2fx.json");
        assert_ne!(file_name("a.b"), file_name("a_b"));
        assert_ne!(file_name("a~2eb"), file_name("a.b"));
    }

    #[tokio::test]
    async fn a_saved_state_is_read_back_by_the_same_account_only() {
        let dir = temp_dir("roundtrip");
        let mut f = file(&dir, "default", "U1");
        assert!(matches!(f.load().await, Loaded::Absent));
        f.save_now(sample()).await;
        match f.load().await {
            Loaded::Restored(s) => assert_eq!(s, sample()),
            other => panic!("{other:?}"),
        }
        let names: Vec<_> = fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["account-default.json"], "no temporary file left");
        // The same file name for another bot user (the account now points elsewhere).
        match file(&dir, "default", "U2").load().await {
            Loaded::Unusable(w) => {
                assert!(
                    w.contains("account-default.json") && w.contains("starting fresh"),
                    "{w}"
                )
            }
            other => panic!("{other:?}"),
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_foreign_or_broken_file_is_reported_not_used() {
        let dir = temp_dir("foreign");
        let f = file(&dir, "default", "U1");
        for text in [
            "{\"truncat",
            "{\"format\":\"something-else\",\"version\":1,\"accountId\":\"default\",\"userId\":\"U1\",\"rooms\":{},\"recent\":[]}",
            "[1,2,3]",
        ] {
            fs::write(dir.join("account-default.json"), text).expect("write");
            match f.load().await {
                Loaded::Unusable(w) => assert!(w.contains("state file"), "{w}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
