//! The host layer: the one surface every binding exposes (Delta Chat's `CommandApi` is the
//! model). A [`Host`] owns a [`Core`] and adds what hosts share:
//!
//! - [`verbs`]: the verb list with typed arguments and results, run by [`Host::call`];
//! - [`error`]: one stable code table and the single mapping from the core's errors, with
//!   secrets redacted ([`redact`]) before anything reaches a host;
//! - [`options`]: the host options, parsed and checked once;
//! - streamed replies and typing indicators held by handle between calls.
//!
//! Bindings are transports: C parses pointers and strings and writes JSON; Node maps one
//! method to one verb. Neither decides what a verb means.

pub mod describe;
pub mod error;
pub mod options;
pub mod redact;
pub mod verbs;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use serde_json::Value;

use crate::account::{AccountStatus, ProbeResult, RoomEntry, RoomInfo, UserInfo, MAX_HISTORY};
use crate::config::{self, AccountConfig, EnvSource, NoEnv, ProcessEnv};
use crate::event::InboundMessage;
use crate::event_queue::EventQueue;
use crate::outbound::{MediaFile, ReplyStream, SentMessage};
use crate::{Core, CoreError, ReloadReport};

pub use describe::{describe_config, AccountSummary};
pub use error::{ErrorCode, HostError};
pub use options::HostOptions;
pub use redact::Redactor;
pub use verbs::{verbs_schema, VERB_NAMES};

use verbs::*;

/// Default number of messages `history` returns.
const DEFAULT_HISTORY: u32 = 20;

/// The configuration last applied, for `startAccount`/`restartAccount` by id.
struct Applied {
    section: Value,
    use_process_env: bool,
}

impl Applied {
    fn env(&self) -> &'static (dyn EnvSource + Sync) {
        if self.use_process_env {
            &ProcessEnv
        } else {
            &NoEnv
        }
    }
}

/// A streamed reply between `streamStart` and `streamFinish`/`streamAbort`.
struct OpenStream {
    account_id: String,
    stream: ReplyStream,
}

/// A core with the host surface around it. Share it as `Arc<Host>`.
pub struct Host {
    core: Core,
    applied: Mutex<Option<Applied>>,
    streams: Mutex<HashMap<u64, OpenStream>>,
    next_stream: AtomicU64,
    redactor: RwLock<Redactor>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Host {
    /// Start a core with checked options (see [`HostOptions::parse`]).
    pub fn new(options: HostOptions) -> Result<Arc<Host>, HostError> {
        let mut core_options = options.core;
        core_options.log_level = options.log_level;
        let core = Core::new(core_options).map_err(HostError::from)?;
        Ok(Arc::new(Host {
            core,
            applied: Mutex::new(None),
            streams: Mutex::default(),
            next_stream: AtomicU64::new(1),
            redactor: RwLock::default(),
        }))
    }

    /// [`Host::new`] from the options' JSON (`null` for defaults).
    pub fn from_json(options: &Value) -> Result<Arc<Host>, HostError> {
        Host::new(HostOptions::parse(options)?)
    }

    /// The core underneath.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The event queue hosts pull from.
    pub fn events(&self) -> &Arc<EventQueue> {
        self.core.events()
    }

    /// The redactor of every secret the host was given so far.
    pub fn redactor(&self) -> Redactor {
        self.redactor
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn ensure_open(&self) -> Result<(), HostError> {
        if self.core.events().is_closed() {
            Err(HostError::closed())
        } else {
            Ok(())
        }
    }

    /// Know the secrets of `section` for redaction (old secrets stay known: a message may
    /// still carry one).
    fn learn_secrets(&self, section: &Value, use_process_env: bool) {
        let env: Option<&dyn EnvSource> = if use_process_env {
            Some(&ProcessEnv)
        } else {
            None
        };
        let fresh = Redactor::for_config(section, env);
        self.redactor
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .absorb(fresh);
    }

    /// Remember a valid `section` for later by-id starts.
    fn remember(&self, section: &Value, use_process_env: bool) {
        *lock(&self.applied) = Some(Applied {
            section: section.clone(),
            use_process_env,
        });
    }

    /// The account `id` as the remembered configuration describes it, with the warnings of
    /// that configuration.
    fn configured_account(&self, id: &str) -> Result<(AccountConfig, Vec<String>), HostError> {
        let applied = lock(&self.applied);
        let Some(applied) = applied.as_ref() else {
            return Err(HostError::new(
                ErrorCode::NotFound,
                format!("no configuration to start account {id:?} from: call applyConfig first, or pass config"),
            ));
        };
        let (account, warnings) = account_in(&applied.section, applied.env(), id)?;
        if !account.enabled {
            let key = if id == config::DEFAULT_ACCOUNT_ID {
                "enabled".to_owned()
            } else {
                format!("accounts.{id}.enabled")
            };
            return Err(HostError::new(
                ErrorCode::Config,
                format!("{key}: the account is disabled; set it to true to start it"),
            ));
        }
        Ok((account, warnings))
    }

    async fn status_of(&self, id: &str) -> Result<AccountStatus, HostError> {
        self.core
            .status(id)
            .await
            .ok_or_else(|| HostError::from(CoreError::UnknownAccount(id.to_owned())))
    }

    // ---- the verbs (listed, with their documentation, in `verbs.rs`) ----

    async fn apply_config(self: Arc<Self>, a: ApplyConfigArgs) -> Result<ReloadReport, HostError> {
        self.ensure_open()?;
        self.learn_secrets(&a.config, a.use_process_env);
        let env: &(dyn EnvSource + Sync) = if a.use_process_env {
            &ProcessEnv
        } else {
            &NoEnv
        };
        let report = self.core.apply_config(&a.config, env).await?;
        self.remember(&a.config, a.use_process_env);
        Ok(report)
    }

    async fn start_account(
        self: Arc<Self>,
        a: StartAccountArgs,
    ) -> Result<AccountStarted, HostError> {
        self.ensure_open()?;
        if let Some(section) = &a.config {
            self.learn_secrets(section, a.use_process_env);
            let env: &(dyn EnvSource + Sync) = if a.use_process_env {
                &ProcessEnv
            } else {
                &NoEnv
            };
            // An invalid section is refused whole and not remembered.
            config::resolve(section, env).map_err(|e| HostError::from(CoreError::Config(e)))?;
            self.remember(section, a.use_process_env);
        }
        let (account, warnings) = self.configured_account(&a.account_id)?;
        if self.core.running_config(&a.account_id).await.as_ref() != Some(&account) {
            self.core.start_account(account).await?;
        }
        let status = self.status_of(&a.account_id).await?;
        Ok(AccountStarted { status, warnings })
    }

    async fn stop_account(self: Arc<Self>, a: AccountArgs) -> Result<bool, HostError> {
        self.ensure_open()?;
        Ok(self.core.stop_account(&a.account_id).await)
    }

    async fn probe(self: Arc<Self>, a: ProbeArgs) -> Result<ProbeResult, HostError> {
        self.ensure_open()?;
        let id = a
            .account_id
            .as_deref()
            .unwrap_or(config::DEFAULT_ACCOUNT_ID);
        let account = match &a.config {
            Some(section) => {
                self.learn_secrets(section, a.use_process_env);
                let env: &(dyn EnvSource + Sync) = if a.use_process_env {
                    &ProcessEnv
                } else {
                    &NoEnv
                };
                account_in(section, env, id)?.0
            }
            None => {
                let applied = lock(&self.applied);
                let Some(applied) = applied.as_ref() else {
                    return Err(HostError::new(
                        ErrorCode::NotFound,
                        format!("no configuration to probe account {id:?} from: pass config, or call applyConfig first"),
                    ));
                };
                account_in(&applied.section, applied.env(), id)?.0
            }
        };
        Ok(self.core.probe(account).await?)
    }

    async fn restart_account(self: Arc<Self>, a: AccountArgs) -> Result<AccountStarted, HostError> {
        self.ensure_open()?;
        let (account, warnings) = self.configured_account(&a.account_id)?;
        // Starting a running account restarts it, keeping its gate (approvals, pending
        // pairing requests, conversation windows).
        self.core.start_account(account).await?;
        let status = self.status_of(&a.account_id).await?;
        Ok(AccountStarted { status, warnings })
    }

    async fn status(self: Arc<Self>, a: StatusArgs) -> Result<StatusResult, HostError> {
        self.ensure_open()?;
        Ok(match a.account_id {
            Some(id) => StatusResult::One(self.core.status(&id).await.map(Box::new)),
            None => StatusResult::All(self.core.statuses().await),
        })
    }

    // The three sends are plain functions: the core queues a send when it is made (see
    // `Host::call`), so the future must be made here, before anything is awaited.

    fn send_text(
        self: Arc<Self>,
        a: SendArgs,
    ) -> impl Future<Output = Result<Vec<SentMessage>, HostError>> + Send + 'static {
        let sent = self.core.send_reply_to(
            &a.account_id,
            &a.target,
            &a.text,
            a.thread_id.as_deref(),
            a.reply_to.as_deref(),
            true,
        );
        when_open(self.ensure_open(), sent)
    }

    fn send_reply(
        self: Arc<Self>,
        a: SendArgs,
    ) -> impl Future<Output = Result<Vec<SentMessage>, HostError>> + Send + 'static {
        let sent = self.core.send_reply_to(
            &a.account_id,
            &a.target,
            &a.text,
            a.thread_id.as_deref(),
            a.reply_to.as_deref(),
            false,
        );
        when_open(self.ensure_open(), sent)
    }

    fn send_media(
        self: Arc<Self>,
        a: SendMediaArgs,
    ) -> impl Future<Output = Result<Vec<SentMessage>, HostError>> + Send + 'static {
        // Files are read now (within `mediaMaxMb`, so briefly) to keep the call order.
        let files: Result<Vec<MediaFile>, HostError> =
            match (self.ensure_open(), a.files.is_empty()) {
                (Err(e), _) => Err(e),
                (Ok(()), true) => Err(HostError::invalid(
                    "sendMedia",
                    "files: give at least one file",
                )),
                (Ok(()), false) => a
                    .files
                    .into_iter()
                    .enumerate()
                    .map(|(i, f)| media_file(i, f))
                    .collect(),
            };
        let sent = files.map(|files| {
            self.core.send_media(
                &a.account_id,
                &a.target,
                a.thread_id.as_deref(),
                files,
                a.caption.as_deref(),
            )
        });
        async move { Ok(sent?.await?) }
    }

    async fn typing(self: Arc<Self>, a: TypingArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core
            .set_typing(&a.account_id, &a.target, a.thread_id.as_deref(), a.active)
            .await?;
        Ok(Done)
    }

    async fn stream_start(self: Arc<Self>, a: StreamStartArgs) -> Result<StreamHandle, HostError> {
        self.ensure_open()?;
        let stream = self
            .core
            .start_stream(
                &a.account_id,
                &a.target,
                a.thread_id.as_deref(),
                a.placeholder.as_deref(),
                a.reply_to.as_deref(),
            )
            .await?;
        let id = self.next_stream.fetch_add(1, Ordering::Relaxed);
        lock(&self.streams).insert(
            id,
            OpenStream {
                account_id: a.account_id,
                stream,
            },
        );
        Ok(StreamHandle { stream_id: id })
    }

    fn take_stream(&self, id: u64) -> Result<OpenStream, HostError> {
        lock(&self.streams).remove(&id).ok_or_else(|| no_stream(id))
    }

    async fn stream_push(self: Arc<Self>, a: StreamPushArgs) -> Result<Done, HostError> {
        let streams = lock(&self.streams);
        let open = streams
            .get(&a.stream_id)
            .ok_or_else(|| no_stream(a.stream_id))?;
        open.stream.push(&a.text).map_err(|e| {
            HostError::new(
                ErrorCode::Closed,
                format!("stream {}: {e}; streamFinish tells why", a.stream_id),
            )
        })?;
        Ok(Done)
    }

    async fn stream_status(self: Arc<Self>, a: StreamPushArgs) -> Result<Done, HostError> {
        let streams = lock(&self.streams);
        let open = streams
            .get(&a.stream_id)
            .ok_or_else(|| no_stream(a.stream_id))?;
        open.stream.status(&a.text).map_err(|e| {
            HostError::new(
                ErrorCode::Closed,
                format!("stream {}: {e}; streamFinish tells why", a.stream_id),
            )
        })?;
        Ok(Done)
    }

    async fn stream_finish(self: Arc<Self>, a: StreamArgs) -> Result<Vec<SentMessage>, HostError> {
        let open = self.take_stream(a.stream_id)?;
        open.stream.finish().await.map_err(|source| {
            HostError::from(CoreError::Account(crate::account::AccountError::Delivery {
                account: open.account_id,
                source: Box::new(source),
            }))
        })
    }

    async fn stream_abort(self: Arc<Self>, a: StreamArgs) -> Result<Vec<SentMessage>, HostError> {
        let open = self.take_stream(a.stream_id)?;
        Ok(open.stream.abort().await)
    }

    async fn download(self: Arc<Self>, a: DownloadArgs) -> Result<Downloaded, HostError> {
        self.ensure_open()?;
        let file = self
            .core
            .download(&a.account_id, &a.url, a.room_id.as_deref())
            .await?;
        let size = file.bytes.len() as u64;
        let (path, base64) = match a.path {
            Some(path) => {
                write_file(&path, &file.bytes).await?;
                (Some(path), None)
            }
            None => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(&file.bytes)),
            ),
        };
        Ok(Downloaded {
            file_name: file.file_name,
            content_type: file.content_type,
            size,
            path,
            base64,
        })
    }

    async fn react(self: Arc<Self>, a: ReactArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core
            .react_in(
                &a.account_id,
                &a.message_id,
                &a.emoji,
                a.add,
                a.target.as_deref(),
            )
            .await?;
        Ok(Done)
    }

    async fn edit_message(self: Arc<Self>, a: EditArgs) -> Result<SentMessage, HostError> {
        self.ensure_open()?;
        Ok(self
            .core
            .edit_message_in(&a.account_id, &a.message_id, &a.text, a.target.as_deref())
            .await?)
    }

    async fn delete_message(self: Arc<Self>, a: MessageArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core
            .delete_message_in(&a.account_id, &a.message_id, a.target.as_deref())
            .await?;
        Ok(Done)
    }

    async fn pin(self: Arc<Self>, a: PinArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core
            .pin(&a.account_id, &a.message_id, true, a.target.as_deref())
            .await?;
        Ok(Done)
    }

    async fn unpin(self: Arc<Self>, a: PinArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core
            .pin(&a.account_id, &a.message_id, false, a.target.as_deref())
            .await?;
        Ok(Done)
    }

    async fn update_allowlist(self: Arc<Self>, a: AllowlistArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core.update_allowlist(&a.account_id, a.update).await?;
        Ok(Done)
    }

    async fn history(self: Arc<Self>, a: HistoryArgs) -> Result<Vec<InboundMessage>, HostError> {
        self.ensure_open()?;
        let limit = a.limit.unwrap_or(DEFAULT_HISTORY);
        if !(1..=MAX_HISTORY).contains(&limit) {
            return Err(HostError::invalid(
                "history",
                format!("limit: must be a whole number between 1 and {MAX_HISTORY}, got {limit}"),
            ));
        }
        Ok(self
            .core
            .history(&a.account_id, &a.target, a.thread_id.as_deref(), limit)
            .await?)
    }

    async fn search(self: Arc<Self>, a: SearchArgs) -> Result<Vec<InboundMessage>, HostError> {
        self.ensure_open()?;
        let limit = a.limit.unwrap_or(DEFAULT_HISTORY);
        if !(1..=MAX_HISTORY).contains(&limit) {
            return Err(HostError::invalid(
                "search",
                format!("limit: must be a whole number between 1 and {MAX_HISTORY}, got {limit}"),
            ));
        }
        if a.query.trim().is_empty() {
            return Err(HostError::invalid("search", "query: must not be blank"));
        }
        Ok(self
            .core
            .search(&a.account_id, &a.target, &a.query, limit)
            .await?)
    }

    async fn rooms(self: Arc<Self>, a: AccountArgs) -> Result<Vec<RoomEntry>, HostError> {
        self.ensure_open()?;
        Ok(self.core.rooms(&a.account_id).await?)
    }

    async fn room_info(self: Arc<Self>, a: RoomInfoArgs) -> Result<RoomInfo, HostError> {
        self.ensure_open()?;
        Ok(self.core.room_info(&a.account_id, &a.target).await?)
    }

    async fn user_info(self: Arc<Self>, a: UserInfoArgs) -> Result<UserInfo, HostError> {
        self.ensure_open()?;
        Ok(self.core.user_info(&a.account_id, &a.user).await?)
    }

    async fn mark_read(self: Arc<Self>, a: MarkReadArgs) -> Result<Done, HostError> {
        self.ensure_open()?;
        self.core
            .mark_read(&a.account_id, &a.target, a.read_threads)
            .await?;
        Ok(Done)
    }

    async fn resolve_target(self: Arc<Self>, a: ResolveArgs) -> Result<Resolved, HostError> {
        self.ensure_open()?;
        let room_id = self.core.resolve_target(&a.account_id, &a.target).await?;
        Ok(Resolved { room_id })
    }

    async fn close(self: Arc<Self>, _: NoArgs) -> Result<Done, HostError> {
        // Streams still open are aborted: what was posted stays.
        let open: Vec<OpenStream> = lock(&self.streams).drain().map(|(_, s)| s).collect();
        for s in open {
            s.stream.abort().await;
        }
        self.core.close().await;
        Ok(Done)
    }
}

/// Account `id` as `section` describes it, with the section's warnings.
fn account_in(
    section: &Value,
    env: &(dyn EnvSource + Sync),
    id: &str,
) -> Result<(AccountConfig, Vec<String>), HostError> {
    let resolved =
        config::resolve(section, env).map_err(|e| HostError::from(CoreError::Config(e)))?;
    let ids: Vec<String> = resolved
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let warnings = resolved.warnings.iter().map(ToString::to_string).collect();
    let account = resolved
        .accounts
        .into_iter()
        .find(|a| a.account_id == id)
        .ok_or_else(|| {
            HostError::new(
                ErrorCode::NotFound,
                format!(
                    "no account {id:?} in channels.rocketchat (configured: {})",
                    if ids.is_empty() {
                        "none".to_owned()
                    } else {
                        ids.join(", ")
                    }
                ),
            )
        })?;
    Ok((account, warnings))
}

/// A queued send's future, refused with CLOSED when the core was closed as it was made.
async fn when_open<T>(
    open: Result<(), HostError>,
    sent: impl Future<Output = Result<T, CoreError>>,
) -> Result<T, HostError> {
    open?;
    Ok(sent.await?)
}

fn no_stream(id: u64) -> HostError {
    HostError::new(
        ErrorCode::NotFound,
        format!("no open stream {id}: it was finished or aborted, or never started"),
    )
}

/// The bytes and names of one `sendMedia` file.
fn media_file(index: usize, f: MediaFileArgs) -> Result<MediaFile, HostError> {
    let key = format!("files[{index}]");
    let bytes = match (&f.path, &f.base64) {
        (Some(path), None) => std::fs::read(path).map_err(|e| {
            HostError::invalid("sendMedia", format!("{key}.path: cannot read {path}: {e}"))
        })?,
        (None, Some(data)) => base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| {
                HostError::invalid("sendMedia", format!("{key}.base64: not base64: {e}"))
            })?,
        _ => {
            return Err(HostError::invalid(
                "sendMedia",
                format!("{key}: give exactly one of path and base64"),
            ))
        }
    };
    let file_name = f
        .file_name
        .or_else(|| {
            f.path.as_deref().and_then(|p| {
                Path::new(p)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
        })
        .unwrap_or_else(|| "file".to_owned());
    let mime = f.mime.unwrap_or_else(|| mime_for(&file_name).to_owned());
    Ok(MediaFile {
        file_name,
        mime,
        bytes: bytes.into(),
    })
}

/// A MIME type from a file name's extension, for the types chat users send most.
fn mime_for(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("txt" | "log") => "text/plain",
        Some("md") => "text/markdown",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        Some("mp3") => "audio/mpeg",
        Some("ogg") => "audio/ogg",
        Some("wav") => "audio/wav",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        _ => "application/octet-stream",
    }
}

/// Write a download where the host asked, through a temporary file, so a reader never sees a
/// half-written file.
async fn write_file(path: &str, bytes: &[u8]) -> Result<(), HostError> {
    let tmp = format!("{path}.part");
    let fail = |e: std::io::Error| {
        HostError::invalid("download", format!("path: cannot write {path}: {e}"))
    };
    tokio::fs::write(&tmp, bytes).await.map_err(fail)?;
    tokio::fs::rename(&tmp, path).await.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_has_a_schema_with_its_doc() {
        let schema = verbs_schema();
        let verbs = schema["verbs"].as_array().unwrap();
        assert_eq!(verbs.len(), VERB_NAMES.len());
        for v in verbs {
            assert!(!v["doc"].as_str().unwrap().is_empty(), "{v}");
            assert!(v["args"].is_object(), "{v}");
        }
    }

    #[test]
    fn mime_from_extension() {
        assert_eq!(mime_for("Chart.PNG"), "image/png");
        assert_eq!(mime_for("notes"), "application/octet-stream");
    }
}
