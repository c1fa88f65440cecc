//! # rocketchat-node
//!
//! The Node.js binding of the openclaw-rocketchat core (napi-rs). It calls the core's Rust API
//! directly and adds only what JavaScript needs:
//!
//! - [`RocketChatCore`]: one core (its own tokio runtime, event queue and accounts). Every
//!   async method runs its work on the core's runtime (never `block_on`) and resolves on the
//!   JS thread.
//! - Events: `onEvent(cb)` hands batches of JSON strings to a weak threadsafe function; see
//!   [`events`] for batching and backpressure.
//! - Errors: a rejected promise (or a thrown error for synchronous calls) is an `Error`
//!   whose `code` is one of [`error::ErrorCode`]; messages never contain secrets.
//! - Lifetime: `close()` (or `await using`) stops the accounts, ends the event pump and releases
//!   every callback, so Node exits by itself. The GC is not what stops background work.
//!
//! New core functions slot in the same way: an `async`-looking method that clones the
//! `Shared` handle, runs its body with `RocketChatCore::spawn` (on the core runtime, with
//! errors mapped through [`BindingError`]) and converts the result to JSON.

pub mod error;
pub mod events;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use openclaw_rocketchat::account::AllowlistUpdate;
use openclaw_rocketchat::config::{self, EnvSource, NoEnv, ProcessEnv, ENV_VARS};
use openclaw_rocketchat::outbound::MediaFile;
use openclaw_rocketchat::{Core, CoreOptions};
use serde_json::Value;

use crate::error::{BindingError, ErrorCode, Redactor};
use crate::events::{EventCallback, EventSubscription, Hub};

/// How long `close()` lets the pump hand the last events to JavaScript.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Options of `new RocketChatCore(options)`.
#[napi(object)]
#[derive(Default)]
pub struct CoreInit {
    /// Runtime worker threads (default 2; the work is I/O).
    pub worker_threads: Option<u32>,
    /// Events the core holds for JavaScript before message producers wait and other events
    /// are dropped and reported by an `overflow` event (default 10 000).
    pub event_capacity: Option<u32>,
}

/// Options of `applyConfig(section, options)`.
#[napi(object)]
#[derive(Default)]
pub struct ApplyOptions {
    /// Let `ROCKETCHAT_URL`, `ROCKETCHAT_AUTH_TOKEN`, `ROCKETCHAT_USER_ID`,
    /// `ROCKETCHAT_USERNAME` and `ROCKETCHAT_PASSWORD` fill the default account (default
    /// false: only the given object counts).
    pub use_process_env: Option<bool>,
}

/// The core, its hub and whether it was closed. Held by the JS object and by every call in
/// flight.
pub struct Shared {
    core: CoreCell,
    hub: Arc<Hub>,
    closed: AtomicBool,
    /// Becomes true once `close()` finished, so concurrent `close()` calls all wait for it.
    close_done: tokio::sync::watch::Sender<bool>,
}

/// Owns the [`Core`] and drops it on a thread of its own: dropping a tokio runtime on a
/// runtime thread panics (the last owner may be a finishing napi task), and on the JS thread
/// (a GC finalizer) the runtime's shutdown could block the event loop for up to two seconds.
struct CoreCell(Option<Core>);

impl std::ops::Deref for CoreCell {
    type Target = Core;
    fn deref(&self) -> &Core {
        self.0
            .as_ref()
            .expect("the core lives until CoreCell drops")
    }
}

impl Drop for CoreCell {
    fn drop(&mut self) {
        if let Some(core) = self.0.take() {
            let spawned = std::thread::Builder::new()
                .name("rocketchat-core-drop".into())
                .spawn(move || drop(core));
            if let Err(e) = spawned {
                // No thread to spare: leak the core rather than risk a panic here.
                eprintln!("openclaw-rocketchat: cannot drop the core on its own thread: {e}");
            }
        }
    }
}

/// A Rocket.Chat channel core: accounts, their connections and one event stream.
#[napi]
pub struct RocketChatCore {
    shared: Arc<Shared>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, BindingError> {
    serde_json::to_value(value).map_err(|e| BindingError::new(ErrorCode::Internal, e.to_string()))
}

impl RocketChatCore {
    /// Run `body` on the core's runtime and return a promise that resolves with its JSON
    /// result on the JS thread, or rejects with an `Error` carrying `code`.
    fn spawn<'env, F, Fut>(
        &self,
        env: &'env Env,
        redactor: Redactor,
        body: F,
    ) -> napi::Result<PromiseRaw<'env, Value>>
    where
        F: FnOnce(Arc<Shared>) -> Fut,
        Fut: Future<Output = Result<Value, BindingError>> + Send + 'static,
    {
        let shared = self.shared.clone();
        let fut = if shared.closed.load(Ordering::Acquire) {
            None
        } else {
            Some(body(shared.clone()))
        };
        let handle = shared.core.runtime_handle().clone();
        env.spawn_future_with_callback(
            async move {
                let outcome = match fut {
                    None => Err(BindingError::closed()),
                    Some(fut) => match handle.spawn(fut).await {
                        Ok(outcome) => outcome,
                        Err(e) => Err(BindingError::new(
                            ErrorCode::Internal,
                            if e.is_panic() {
                                "the core panicked"
                            } else {
                                "the core's runtime stopped"
                            },
                        )),
                    },
                };
                drop(shared);
                Ok(outcome.map_err(|e| e.redacted(&redactor)))
            },
            |env, outcome| outcome.map_err(|e| e.into_rejection(env)),
        )
    }
}

#[napi]
impl RocketChatCore {
    /// Start a core: its runtime threads (named `rocketchat-core`) and event queue. Events are
    /// kept from now on, even before `onEvent` is called.
    #[napi(constructor)]
    pub fn new(options: Option<CoreInit>) -> Result<Self, napi::Error<ErrorCode>> {
        let options = options.unwrap_or_default();
        let mut core_options = CoreOptions::default();
        if let Some(n) = options.worker_threads {
            if n == 0 || n > 64 {
                return Err(BindingError::new(
                    ErrorCode::Config,
                    "workerThreads: must be between 1 and 64",
                )
                .into_napi());
            }
            core_options.worker_threads = n as usize;
        }
        if let Some(n) = options.event_capacity {
            if n == 0 {
                return Err(BindingError::new(
                    ErrorCode::Config,
                    "eventCapacity: must be at least 1",
                )
                .into_napi());
            }
            core_options.event_capacity = n as usize;
        }
        let core = Core::new(core_options).map_err(|e| BindingError::from(e).into_napi())?;
        let hub = Hub::new(core.events().clone(), core.runtime_handle().clone());
        Ok(RocketChatCore {
            shared: Arc::new(Shared {
                core: CoreCell(Some(core)),
                hub,
                closed: AtomicBool::new(false),
                close_done: tokio::sync::watch::Sender::new(false),
            }),
        })
    }

    /// Apply a whole `channels.rocketchat` object: start new accounts, restart changed ones,
    /// stop removed or disabled ones. Resolves with the `ReloadReport`; an invalid object
    /// changes nothing and rejects with code `CONFIG`, a message naming every bad key and a
    /// `problems` array of `{path, message}`.
    #[napi(ts_return_type = "Promise<ReloadReport>")]
    pub fn apply_config<'env>(
        &self,
        env: &'env Env,
        section: Value,
        options: Option<ApplyOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let use_env = options.and_then(|o| o.use_process_env).unwrap_or(false);
        let env_secrets: Vec<String> = if use_env {
            ENV_VARS
                .iter()
                .filter(|v| v.contains("TOKEN") || v.contains("PASSWORD"))
                .filter_map(|v| ProcessEnv.var(v))
                .collect()
        } else {
            Vec::new()
        };
        let redactor = Redactor::for_config(&section, &env_secrets);
        self.spawn(env, redactor, move |shared| async move {
            let env: &(dyn EnvSource + Sync) = if use_env { &ProcessEnv } else { &NoEnv };
            let report = shared.core.apply_config(&section, env).await?;
            to_json(&report)
        })
    }

    /// Stop one account. Resolves false when none ran with that id.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn stop_account<'env>(
        &self,
        env: &'env Env,
        account_id: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.spawn(env, Redactor::default(), move |shared| async move {
            Ok(Value::Bool(shared.core.stop_account(&account_id).await))
        })
    }

    /// One account's status (`null` when no account runs with that id), or, without an id,
    /// the statuses of every running account.
    #[napi(ts_return_type = "Promise<AccountStatus | AccountStatus[] | null>")]
    pub fn status<'env>(
        &self,
        env: &'env Env,
        account_id: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.spawn(env, Redactor::default(), move |shared| async move {
            match account_id {
                Some(id) => match shared.core.status(&id).await {
                    Some(s) => to_json(&s),
                    None => Ok(Value::Null),
                },
                None => to_json(&shared.core.statuses().await),
            }
        })
    }

    /// Send `text` to `target` (`channel:ROOM_ID`, `room:ROOM_ID`, `#name`, `@username`,
    /// `user:USER_ID`, or a bare room id), in a thread when `threadId` is set. Long text is
    /// split as configured (tables converted, code fences kept whole). Resolves with the
    /// messages posted, in order: `[{id, roomId, threadId?, text}]`.
    #[napi(ts_return_type = "Promise<SentMessage[]>")]
    pub fn send_text<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        target: String,
        text: String,
        thread_id: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.spawn(env, Redactor::default(), move |shared| async move {
            let sent = shared
                .core
                .send_text(&account_id, &target, &text, thread_id.as_deref())
                .await?;
            Ok(serde_json::to_value(sent).expect("sent messages serialize"))
        })
    }

    /// Deliver an agent's reply to `target` (targets as in `sendText`): reply prefix, tables,
    /// chunking and the typing indicator are the core's. Resolves with the messages posted.
    #[napi(ts_return_type = "Promise<SentMessage[]>")]
    pub fn send_reply<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        target: String,
        text: String,
        thread_id: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.spawn(env, Redactor::default(), move |shared| async move {
            let sent = shared
                .core
                .send_reply(&account_id, &target, &text, thread_id.as_deref())
                .await?;
            to_json(&sent)
        })
    }

    /// Upload one file to `target`, in a thread when `threadId` is set, with an optional
    /// caption. The bytes are copied before the call returns. Resolves with the messages posted.
    #[napi(ts_return_type = "Promise<SentMessage[]>")]
    #[allow(clippy::too_many_arguments)]
    pub fn send_media<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        target: String,
        thread_id: Option<String>,
        file_name: String,
        mime: String,
        bytes: napi::bindgen_prelude::Buffer,
        caption: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let bytes: Vec<u8> = bytes.to_vec();
        self.spawn(env, Redactor::default(), move |shared| async move {
            let file = MediaFile {
                file_name,
                mime,
                bytes: bytes.into(),
            };
            let sent = shared
                .core
                .send_media(
                    &account_id,
                    &target,
                    thread_id.as_deref(),
                    vec![file],
                    caption.as_deref(),
                )
                .await?;
            to_json(&sent)
        })
    }

    /// Change an account's allowlists at run time (pairing approvals, host edits) without a
    /// restart: `{approve, revoke, allowFrom, groupAllowFrom}`, every key optional. Kept across
    /// restarts of that account. Rejects NOT_FOUND for an account that is not running.
    #[napi(
        ts_args_type = "accountId: string, update: AllowlistUpdate",
        ts_return_type = "Promise<void>"
    )]
    pub fn update_allowlist<'env>(
        &self,
        env: &'env Env,
        account_id: String,
        update: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.spawn(env, Redactor::default(), move |shared| async move {
            let update: AllowlistUpdate = serde_json::from_value(update).map_err(|e| {
                BindingError::new(ErrorCode::InvalidArgument, format!("update: {e}"))
            })?;
            shared.core.update_allowlist(&account_id, update).await?;
            Ok(Value::Null)
        })
    }

    /// Receive events: `callback` gets batches of event JSON strings (parse each with
    /// `JSON.parse`), in order, each event once. The callback is weak (it does not keep Node
    /// alive) and should return quickly; while it is slow, the core holds events back (see the
    /// module docs). Throws `CLOSED` after `close()`.
    #[napi(ts_args_type = "callback: (events: string[]) => void")]
    pub fn on_event(
        &self,
        callback: EventCallback,
    ) -> Result<EventSubscription, napi::Error<ErrorCode>> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(BindingError::closed().into_napi());
        }
        let id = self.shared.hub.subscribe(callback);
        Ok(EventSubscription::new(&self.shared.hub, id))
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Stop every account, deliver the last events to the subscribers, end the event pump and
    /// release every callback. Idempotent. Once it resolved nothing of the core keeps Node's
    /// event loop alive; later calls reject with `CLOSED`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>> {
        let shared = self.shared.clone();
        let first = !shared.closed.swap(true, Ordering::AcqRel);
        let handle = shared.core.runtime_handle().clone();
        let mut done = shared.close_done.subscribe();
        env.spawn_future_with_callback(
            async move {
                if first {
                    let inner = shared.clone();
                    let _ = handle
                        .spawn(async move {
                            inner.core.close().await;
                            inner.hub.close(CLOSE_GRACE).await;
                        })
                        .await;
                    // Also covers a pump that ended without `Hub::close` (a panic).
                    shared.hub.release_all();
                    shared.close_done.send_replace(true);
                } else {
                    let _ = done.wait_for(|d| *d).await;
                }
                drop(shared);
                Ok(Value::Null)
            },
            |_env, v| Ok(v),
        )
    }

    /// `await using core = new RocketChatCore()` support: same as `close()`.
    #[napi(well_known_symbol = "asyncDispose", ts_return_type = "Promise<void>")]
    pub fn async_dispose<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Value>> {
        self.close(env)
    }

    /// JSON Schema (draft 2020-12) of the `channels.rocketchat` object.
    #[napi]
    pub fn config_schema() -> Value {
        config::json_schema()
    }

    /// JSON Schema of an event (the envelope with every event variant).
    #[napi]
    pub fn event_schema() -> Value {
        openclaw_rocketchat::event::json_schema()
    }
}
