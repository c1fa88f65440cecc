//! # rocketchat-node
//!
//! The Node.js binding of the openclaw-rocketchat core (napi-rs): a transport over the core's
//! host layer (`openclaw_rocketchat::host`), in the way lightningcss' binding is a shim.
//!
//! - [`RocketChatCore`]: one host (its own tokio runtime, event queue and accounts). Each verb
//!   of the host's list is one method taking one arguments object and returning a promise; the
//!   work runs on the core's runtime (never `block_on`) and resolves on the JS thread. What a
//!   verb does, its argument checks and its errors are the core's.
//! - Events: `onEvent(cb)` hands batches of JSON strings to a weak threadsafe function; see
//!   [`events`] for batching and backpressure.
//! - Errors: a rejected promise (or a thrown error for synchronous calls) is an `Error` whose
//!   `code` is the name of the host's error code; messages never contain secrets.
//! - Lifetime: `close()` (or `await using`) stops the accounts, ends the event pump and releases
//!   every callback, so Node exits by itself. The GC is not what stops background work.
//!
//! Adding a verb (the recipe in `ARCHITECTURE.md`): add it to the core's list
//! (`src/host/verbs.rs`), then one method here that calls [`RocketChatCore::verb`] with its
//! name, regenerate `index.d.ts` (`node bindings/node/scripts/gen-types.mjs`), add a row to
//! `tests/contract/cases.json` and one to `rcc_call`'s verb table (`bindings/c/src/core.rs`,
//! then regenerate the header). `tests/node/types.test.mjs` fails while a verb has no method
//! or `index.d.ts` lags; `tests/node/contract.test.mjs` while a verb has no case.

pub mod error;
pub mod events;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use openclaw_rocketchat::host::{ErrorCode, Host, HostError, VERB_NAMES};
use serde_json::Value;

use crate::error::{rejection, thrown, Code};

// Only this addon's own allocations (Node keeps its allocator): the core's worker threads hand
// each received frame on to another thread, where glibc's malloc takes an arena lock per free.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use crate::events::{EventCallback, EventSubscription, Hub};

/// How long `close()` lets the pump hand the last events to JavaScript.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The host, its hub and whether it was closed. Held by the JS object and by every call in
/// flight.
pub struct Shared {
    host: HostCell,
    hub: Arc<Hub>,
    closed: AtomicBool,
    /// Becomes true once `close()` finished, so concurrent `close()` calls all wait for it.
    close_done: tokio::sync::watch::Sender<bool>,
}

/// Owns the [`Host`] and drops it on a thread of its own: dropping a tokio runtime on a
/// runtime thread panics (the last owner may be a finishing napi task), and on the JS thread
/// (a GC finalizer) the runtime's shutdown could block the event loop for up to two seconds.
struct HostCell(Option<Arc<Host>>);

impl std::ops::Deref for HostCell {
    type Target = Arc<Host>;
    fn deref(&self) -> &Arc<Host> {
        self.0
            .as_ref()
            .expect("the host lives until HostCell drops")
    }
}

impl Drop for HostCell {
    fn drop(&mut self) {
        if let Some(host) = self.0.take() {
            let spawned = std::thread::Builder::new()
                .name("rocketchat-core-drop".into())
                .spawn(move || drop(host));
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

impl RocketChatCore {
    /// Run `verb` on the core's runtime; the promise resolves with its JSON result on the JS
    /// thread, or rejects with an `Error` carrying `code`.
    fn verb<'env>(
        &self,
        env: &'env Env,
        verb: &'static str,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.run(env, verb.to_owned(), args.unwrap_or(Value::Null))
    }

    fn run<'env>(
        &self,
        env: &'env Env,
        verb: String,
        args: Value,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let shared = self.shared.clone();
        // Made here, on the JS thread: a send takes its place in its room's queue now, so
        // sends are posted in the order JavaScript made them, awaited or not.
        let call = (!shared.closed.load(Ordering::Acquire)).then(|| shared.host.call(&verb, args));
        let handle = shared.host.core().runtime_handle().clone();
        env.spawn_future_with_callback(
            async move {
                let outcome = match call {
                    None => Err(HostError::closed()),
                    Some(call) => match handle.spawn(call).await {
                        Ok(outcome) => outcome,
                        Err(e) => Err(HostError::new(
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
                Ok(outcome)
            },
            |env, outcome| outcome.map_err(|e| rejection(e, env)),
        )
    }
}

#[napi]
impl RocketChatCore {
    /// Start a core: its runtime threads (named `rocketchat-core`) and event queue. Events are
    /// kept from now on, even before `onEvent` is called. `options`: `{workerThreads,
    /// eventCapacity, logLevel, stateDir}`, checked by the core (CONFIG naming the key when
    /// wrong).
    #[napi(constructor)]
    pub fn new(options: Option<Value>) -> Result<Self, napi::Error<Code>> {
        let host = Host::from_json(&options.unwrap_or(Value::Null)).map_err(thrown)?;
        let hub = Hub::new(host.events().clone(), host.core().runtime_handle().clone());
        Ok(RocketChatCore {
            shared: Arc::new(Shared {
                host: HostCell(Some(host)),
                hub,
                closed: AtomicBool::new(false),
                close_done: tokio::sync::watch::Sender::new(false),
            }),
        })
    }

    /// Run any verb by name (see `verbs`); the methods below are the same calls, typed.
    #[napi]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        verb: String,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.run(env, verb, args.unwrap_or(Value::Null))
    }

    /// The `applyConfig` verb.
    #[napi]
    pub fn apply_config<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "applyConfig", args)
    }

    /// The `startAccount` verb.
    #[napi]
    pub fn start_account<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "startAccount", args)
    }

    /// The `stopAccount` verb.
    #[napi]
    pub fn stop_account<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "stopAccount", args)
    }

    /// The `probe` verb.
    #[napi]
    pub fn probe<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "probe", args)
    }

    /// The `restartAccount` verb.
    #[napi]
    pub fn restart_account<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "restartAccount", args)
    }

    /// The `status` verb.
    #[napi]
    pub fn status<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "status", args)
    }

    /// The `sendText` verb.
    #[napi]
    pub fn send_text<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "sendText", args)
    }

    /// The `sendReply` verb.
    #[napi]
    pub fn send_reply<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "sendReply", args)
    }

    /// The `sendMedia` verb.
    #[napi]
    pub fn send_media<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "sendMedia", args)
    }

    /// The `typing` verb.
    #[napi]
    pub fn typing<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "typing", args)
    }

    /// The `streamStart` verb.
    #[napi]
    pub fn stream_start<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "streamStart", args)
    }

    /// The `streamPush` verb.
    #[napi]
    pub fn stream_push<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "streamPush", args)
    }

    /// The `streamStatus` verb.
    #[napi]
    pub fn stream_status<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "streamStatus", args)
    }

    /// The `streamFinish` verb.
    #[napi]
    pub fn stream_finish<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "streamFinish", args)
    }

    /// The `streamAbort` verb.
    #[napi]
    pub fn stream_abort<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "streamAbort", args)
    }

    /// The `download` verb.
    #[napi]
    pub fn download<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "download", args)
    }

    /// The `react` verb.
    #[napi]
    pub fn react<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "react", args)
    }

    /// The `editMessage` verb.
    #[napi]
    pub fn edit_message<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "editMessage", args)
    }

    /// The `deleteMessage` verb.
    #[napi]
    pub fn delete_message<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "deleteMessage", args)
    }

    /// The `pin` verb.
    #[napi]
    pub fn pin<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "pin", args)
    }

    /// The `unpin` verb.
    #[napi]
    pub fn unpin<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "unpin", args)
    }

    /// The `updateAllowlist` verb.
    #[napi]
    pub fn update_allowlist<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "updateAllowlist", args)
    }

    /// The `history` verb.
    #[napi]
    pub fn history<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "history", args)
    }

    /// The `search` verb.
    #[napi]
    pub fn search<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "search", args)
    }

    /// The `rooms` verb.
    #[napi]
    pub fn rooms<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "rooms", args)
    }

    /// The `roomInfo` verb.
    #[napi]
    pub fn room_info<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "roomInfo", args)
    }

    /// The `userInfo` verb.
    #[napi]
    pub fn user_info<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "userInfo", args)
    }

    /// The `markRead` verb.
    #[napi]
    pub fn mark_read<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "markRead", args)
    }

    /// The `resolveTarget` verb.
    #[napi]
    pub fn resolve_target<'env>(
        &self,
        env: &'env Env,
        args: Option<Value>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        self.verb(env, "resolveTarget", args)
    }

    /// Receive events: `callback` gets batches of event JSON strings (parse each with
    /// `JSON.parse`), in order, each event once. The callback is weak (it does not keep Node
    /// alive) and should return quickly; while it is slow, the core holds events back (see the
    /// module docs). Throws `CLOSED` after `close()`.
    #[napi(ts_args_type = "callback: (events: string[]) => void")]
    pub fn on_event(
        &self,
        callback: EventCallback,
    ) -> Result<EventSubscription, napi::Error<Code>> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(thrown(HostError::closed()));
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
        let handle = shared.host.core().runtime_handle().clone();
        let mut done = shared.close_done.subscribe();
        env.spawn_future_with_callback(
            async move {
                if first {
                    let inner = shared.clone();
                    let _ = handle
                        .spawn(async move {
                            let _ = inner.host.call("close", Value::Null).await;
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
        openclaw_rocketchat::config::json_schema()
    }

    /// JSON Schema of an event (the envelope with every event variant).
    #[napi]
    pub fn event_schema() -> Value {
        openclaw_rocketchat::event::json_schema()
    }

    /// JSON Schema of every verb: `{verbs: [{name, doc, args, result}], $defs}`.
    #[napi]
    pub fn verbs_schema() -> Value {
        openclaw_rocketchat::host::verbs_schema()
    }

    /// How the core reads a `channels.rocketchat` object, account by account, without starting
    /// anything: `env` stands for the `ROCKETCHAT_*` variables (absent: ignored). Throws
    /// CONFIG for an invalid object.
    #[napi(ts_return_type = "AccountSummary[]")]
    pub fn describe_config(
        section: Value,
        env: Option<std::collections::BTreeMap<String, String>>,
    ) -> Result<Value, napi::Error<Code>> {
        let accounts =
            openclaw_rocketchat::host::describe_config(&section, env.as_ref()).map_err(thrown)?;
        serde_json::to_value(accounts)
            .map_err(|e| thrown(HostError::new(ErrorCode::Internal, e.to_string())))
    }

    /// The names of every verb, in the documented order.
    #[napi]
    pub fn verbs() -> Vec<&'static str> {
        VERB_NAMES.to_vec()
    }

    /// The error code table: `{name: number}` (the same numbers as C's `rcc_status`).
    #[napi]
    pub fn error_codes() -> Value {
        ErrorCode::ALL
            .iter()
            .map(|c| (c.name().to_owned(), Value::from(c.number())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}
