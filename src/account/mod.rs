//! One bot account on one server: its REST client, its realtime connection, and the
//! supervisor task that turns realtime events into host events.
//!
//! Accounts are independent: each has its own task, credentials, rate-limit state and
//! inbound pipeline, so starting, stopping or failing one never disturbs another.

mod actions;
mod catchup;
mod credentials;
mod gate_dropped;
mod history;
mod pipeline;
mod probe;
mod retention;
mod rooms;
mod state_file;
mod status;
mod supervisor;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use actions::{RoomEntry, RoomInfo, UserInfo, MAX_HISTORY};
pub use catchup::{missed_messages, Gap, Missed, OVERLAP_MS};
pub use pipeline::Identity;
pub use probe::{probe, ProbeResult};
pub use rooms::RoomDirectory;
pub use status::{AccountStatus, ConnectionState};

use crate::auth::AuthError;
use crate::config::AccountConfig;
use crate::ddp::realtime::{Backoff, RealtimeConfig};
use crate::event::{now_ms, Event};
use crate::event_queue::EventQueue;
use crate::inbound::gate::Gate;
use crate::outbound::target::{Target, TargetError};
use crate::outbound::typing::{TypingFuture, TypingGuard};
use crate::outbound::{
    Deliverer, DeliveryError, EventHook, InRoom, MediaFile, RealtimeTyping, ReplyStream, ReplyTo,
    SentMessage, TypingSink,
};
use crate::rest::{RestClient, RestError, RestOptions};
use crate::tls::{self, TlsError, TlsOptions};

use supervisor::supervise;

/// Why an account could not be started or could not act.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The TLS options are unusable (unreadable CA file, bad PEM).
    #[error("account {account}: {source}")]
    Tls {
        /// Account id.
        account: String,
        /// The problem.
        source: TlsError,
    },
    /// A REST call failed.
    #[error("account {account}: {source}")]
    Rest {
        /// Account id.
        account: String,
        /// The problem (boxed: REST errors carry the server's whole answer).
        source: Box<RestError>,
    },
    /// A delivery failed (`sent` inside lists what landed before the failure).
    #[error("account {account}: {source}")]
    Delivery {
        /// Account id.
        account: String,
        /// The problem.
        source: Box<DeliveryError>,
    },
    /// A setup probe failed: `message` says what to fix in the configuration's words.
    #[error("account {account}: {message}")]
    Probe {
        /// Account id.
        account: String,
        /// What failed and which keys to check.
        message: String,
        /// The REST failure underneath (decides the error code).
        source: Box<RestError>,
    },
    /// The access rules or the named room refuse the action: a room they close, a message
    /// that is not in the room the caller acts in.
    #[error("account {account}: {message}")]
    Forbidden {
        /// Account id.
        account: String,
        /// What was refused and why, naming the room and the configuration key.
        message: String,
    },
    /// The send target is not one we understand.
    #[error("account {account}: {source}")]
    Target {
        /// Account id.
        account: String,
        /// The problem.
        source: TargetError,
    },
}

/// Timings of an account's supervisor; the defaults suit real servers, tests shorten them.
#[derive(Clone, Debug)]
pub struct AccountOptions {
    /// REST timeouts and retries.
    pub rest: RestOptions,
    /// Our DDP ping interval.
    pub ping_interval: Duration,
    /// Close a socket that was silent this long (half-open detection).
    pub idle_timeout: Duration,
    /// Reconnect delays.
    pub backoff: Backoff,
    /// Delay before retrying credentials the server refused.
    pub auth_failure_delay: Duration,
    /// A folder of the host's where each account keeps what it has seen (a file per
    /// account), so a restart neither answers a message again nor misses what was posted
    /// meanwhile. `None`: memory only.
    pub state_dir: Option<PathBuf>,
    /// Which dropped messages become `dropped` events (all of them are counted).
    pub dropped_events: crate::event::DroppedEvents,
}

impl Default for AccountOptions {
    fn default() -> Self {
        let rt = RealtimeConfig::new("", Arc::new(NoToken));
        AccountOptions {
            rest: RestOptions::default(),
            ping_interval: rt.ping_interval,
            idle_timeout: rt.idle_timeout,
            backoff: rt.backoff,
            auth_failure_delay: rt.auth_failure_delay,
            state_dir: None,
            dropped_events: crate::event::DroppedEvents::All,
        }
    }
}

/// A placeholder token source, only to read [`RealtimeConfig`]'s defaults.
struct NoToken;

impl crate::auth::TokenSource for NoToken {
    fn current(&self) -> crate::auth::BoxFuture<'_, Result<crate::auth::AuthToken, AuthError>> {
        Box::pin(async { Err(AuthError::Rejected("none".into())) })
    }
    fn invalidate<'a>(&'a self, _: &'a crate::auth::AuthToken) -> crate::auth::BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// What the supervisor shares with the [`Account`] handle.
struct Shared {
    id: String,
    rest: RestClient,
    queue: Arc<EventQueue>,
    status: Arc<Mutex<AccountStatus>>,
    identity: RwLock<Option<Identity>>,
    gate: Arc<Mutex<Gate>>,
    deliverer: Deliverer,
    typing: Arc<LateTyping>,
    /// Typing indicators a host turned on (`set_typing`), by room and thread.
    host_typing: Mutex<HashMap<(String, Option<String>), TypingGuard>>,
}

/// The typing sink the deliverer is built with before the realtime connection exists; it
/// forwards once the supervisor has a connection and knows the bot's username.
#[derive(Default)]
struct LateTyping(RwLock<Option<Arc<RealtimeTyping>>>);

impl LateTyping {
    fn set(&self, typing: Option<RealtimeTyping>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = typing.map(Arc::new);
    }
}

impl TypingSink for LateTyping {
    fn set_typing<'a>(
        &'a self,
        rid: &'a str,
        tmid: Option<&'a str>,
        active: bool,
    ) -> TypingFuture<'a> {
        let inner = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        Box::pin(async move {
            match inner {
                Some(t) => t.set_typing(rid, tmid, active).await,
                // Not connected yet: nobody can see the indicator anyway.
                None => Ok(()),
            }
        })
    }
}

/// A change to an account's allowlists at run time (pairing approvals, host edits), without
/// a restart. JSON: `{"approve": [...], "revoke": [...], "allowFrom": [...], "groupAllowFrom": [...]}`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AllowlistUpdate {
    /// Senders to admit in addition to the configured lists (ids, `@username`, usernames).
    pub approve: Vec<String>,
    /// Approvals to withdraw.
    pub revoke: Vec<String>,
    /// Replace the DM allowlist (`allowFrom`).
    pub allow_from: Option<Vec<String>>,
    /// Replace the group allowlist (`groupAllowFrom`).
    pub group_allow_from: Option<Vec<String>>,
}

/// A running account.
pub struct Account {
    shared: Arc<Shared>,
    config: AccountConfig,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Account {
    /// Start an account: build its TLS config, credentials and REST client, and spawn its
    /// supervisor on `runtime`. Connection problems are not errors here: the supervisor keeps
    /// retrying and reports them as events.
    pub fn start(
        config: AccountConfig,
        options: AccountOptions,
        queue: Arc<EventQueue>,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Account, AccountError> {
        Account::start_with_gate(config, options, queue, runtime, None)
    }

    /// [`Account::start`], continuing from the access-rule state of a previous run of the
    /// same account (a restart after a configuration change): approvals, pending pairing
    /// requests and open conversation windows are kept, the policy is the new config's.
    pub fn start_with_gate(
        config: AccountConfig,
        options: AccountOptions,
        queue: Arc<EventQueue>,
        runtime: &tokio::runtime::Handle,
        gate: Option<Gate>,
    ) -> Result<Account, AccountError> {
        let id = config.account_id.clone();
        let tls = account_tls(&config)?;
        let rest_err = |source| AccountError::Rest {
            account: id.clone(),
            source: Box::new(source),
        };
        let tokens =
            credentials::token_source(&config, tls.clone(), &options.rest).map_err(rest_err)?;
        let rest = RestClient::new(
            config.base_url.as_str(),
            tls.clone(),
            tokens,
            options.rest.clone(),
        )
        .map_err(rest_err)?;
        let gate = match gate {
            Some(mut gate) => {
                gate.reconfigure(&config);
                gate
            }
            None => Gate::new(&config),
        };
        let gate = Arc::new(Mutex::new(gate));
        let status = Arc::new(Mutex::new(AccountStatus::new(
            &id,
            config.base_url.as_str(),
            config.enabled,
        )));
        let typing = Arc::new(LateTyping::default());
        let deliverer = Deliverer::new(
            rest.clone(),
            &config,
            Some(typing.clone() as Arc<dyn TypingSink>),
        )
        .with_event_hook(sent_hook(&id, queue.clone(), status.clone(), gate.clone()));
        let shared = Arc::new(Shared {
            id,
            rest,
            queue,
            status,
            identity: RwLock::new(None),
            gate,
            deliverer,
            typing,
            host_typing: Mutex::default(),
        });
        let (stop, stop_rx) = watch::channel(false);
        let task = runtime.spawn(supervise(
            shared.clone(),
            config.clone(),
            options,
            tls,
            stop_rx,
        ));
        Ok(Account {
            shared,
            config,
            stop,
            task,
        })
    }

    /// The account id.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &AccountConfig {
        &self.config
    }

    /// The REST client (for hosts that need a call the core does not wrap).
    pub fn rest(&self) -> &RestClient {
        &self.shared.rest
    }

    /// The bot's identity, once the server told it.
    pub fn identity(&self) -> Option<Identity> {
        self.shared
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Apply an allowlist change now; later messages are judged by the new lists.
    pub fn update_allowlist(&self, update: &AllowlistUpdate) {
        let mut gate = self.shared.gate.lock().unwrap_or_else(|e| e.into_inner());
        for entry in &update.approve {
            gate.approve(entry);
        }
        for entry in &update.revoke {
            gate.revoke(entry);
        }
        if let Some(list) = &update.allow_from {
            gate.set_allow_from(list);
        }
        if let Some(list) = &update.group_allow_from {
            gate.set_group_allow_from(list);
        }
        // A DM the sender wrote just before their approval reached us was dropped as
        // pending: decide it again now, so it is answered rather than lost.
        let now = now_ms();
        let mut delivered = Vec::new();
        for mut message in gate.take_released(now) {
            if let Some(trigger) = gate.decide(&message, now).into_trigger(&message.text) {
                message.trigger = Some(trigger);
                delivered.push(message);
            }
        }
        drop(gate);
        for message in delivered {
            {
                let mut st = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
                st.delivered += 1;
                st.last_inbound_at = Some(now);
            }
            self.shared
                .queue
                .push(Some(&self.shared.id), Event::Message { message });
        }
    }

    /// A snapshot of the account's status.
    pub fn status(&self) -> AccountStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stop: close the realtime connection and end the supervisor. Idempotent.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// [`Account::stop`], returning the access-rule state as the last message left it, for
    /// [`Account::start_with_gate`].
    pub async fn stop_keeping_gate(self) -> Gate {
        let gate = self.shared.gate.clone();
        self.stop().await;
        let gate = gate.lock().unwrap_or_else(|e| e.into_inner()).clone();
        gate
    }

    /// Send a text the host composed to `target` (see [`Target`]), in a thread when
    /// `thread_id` is set: tables converted, split into messages that fit, in order, each
    /// send idempotent (a retry never posts twice). No reply prefix, no typing indicator.
    pub fn send_text(
        &self,
        target: String,
        text: String,
        thread_id: Option<String>,
        reply_to: Option<String>,
    ) -> impl Future<Output = Result<Vec<SentMessage>, AccountError>> + Send + 'static {
        let reply = self.reply_to(reply_to);
        self.in_room(target, move |d, rid| async move {
            d.send_text_to(&rid, thread_id.as_deref(), &text, reply.as_ref())
                .await
        })
    }

    /// Deliver an agent's whole reply: `responsePrefix`, tables, chunks, with the typing
    /// indicator shown meanwhile. With `reply_to` (the message answered), a second instance
    /// of the bot answering it too does not post a second copy (see `outbound::claim`).
    pub fn send_reply(
        &self,
        target: String,
        text: String,
        thread_id: Option<String>,
        reply_to: Option<String>,
    ) -> impl Future<Output = Result<Vec<SentMessage>, AccountError>> + Send + 'static {
        let reply = self.reply_to(reply_to);
        self.in_room(target, move |d, rid| async move {
            d.send_reply_to(&rid, thread_id.as_deref(), &text, reply.as_ref())
                .await
        })
    }

    /// The claim key of a reply to `message_id`: the bot's user id (the same in every
    /// instance of it; the account id until the server told it) and the message.
    fn reply_to(&self, message_id: Option<String>) -> Option<ReplyTo> {
        let message_id = message_id.filter(|m| !m.trim().is_empty())?;
        let bot = self
            .identity()
            .map_or_else(|| self.shared.id.clone(), |i| i.user_id);
        Some(ReplyTo::new(&bot, &message_id))
    }

    /// Upload files (one message each, the caption on the first), within `mediaMaxMb`.
    pub fn send_media(
        &self,
        target: String,
        thread_id: Option<String>,
        files: Vec<MediaFile>,
        caption: Option<String>,
    ) -> impl Future<Output = Result<Vec<SentMessage>, AccountError>> + Send + 'static {
        self.in_room(target, move |d, rid| async move {
            d.send_media_group(&rid, thread_id.as_deref(), files, caption.as_deref())
                .await
        })
    }

    /// Start a block-streamed reply: push pieces as the agent produces them, then finish.
    /// Pieces are coalesced into as few messages as `blockStreamingCoalesce` allows. With a
    /// `placeholder`, a live message: posted at once and edited into the reply.
    pub fn start_stream(
        &self,
        target: String,
        thread_id: Option<String>,
        placeholder: Option<String>,
        reply_to: Option<String>,
    ) -> impl Future<Output = Result<ReplyStream, AccountError>> + Send + 'static {
        let reply = self.reply_to(reply_to);
        self.in_room(target, move |d, rid| async move {
            Ok(d.start_reply_stream(&rid, thread_id.as_deref(), placeholder.as_deref(), reply))
        })
    }

    /// Download an inbound file (an attachment's `url`, absolute or server-relative) with the
    /// account's credentials. Only the server's own origin is fetched (credentials never go
    /// elsewhere); the body is streamed and refused past `mediaMaxMb` (per room when `room_id`
    /// is given).
    pub fn download(
        &self,
        url: String,
        room_id: Option<String>,
    ) -> impl Future<Output = Result<crate::rest::Download, AccountError>> + Send + 'static {
        let shared = self.shared.clone();
        let max = self
            .config
            .media_max_bytes_in(room_id.as_deref().unwrap_or(""));
        async move {
            shared
                .rest
                .download(&url, max)
                .await
                .map_err(|e| AccountError::Rest {
                    account: shared.id.clone(),
                    source: Box::new(e),
                })
        }
    }

    /// Add or remove the bot's reaction on a message; with `target`, only on a message in
    /// that room.
    pub fn react(
        &self,
        message_id: String,
        emoji: String,
        add: bool,
        target: Option<String>,
    ) -> impl Future<Output = Result<(), AccountError>> + Send + 'static {
        self.on_message(target, move |d, room| async move {
            d.react_in(&message_id, &emoji, add, room.as_ref()).await
        })
    }

    /// Pin or unpin a message; with `target`, only a message in that room.
    pub fn pin(
        &self,
        message_id: String,
        pin: bool,
        target: Option<String>,
    ) -> impl Future<Output = Result<(), AccountError>> + Send + 'static {
        self.on_message(target, move |d, room| async move {
            d.pin_in(&message_id, pin, room.as_ref()).await
        })
    }

    /// Replace the text of one of the bot's own messages; with `target`, only in that room.
    pub fn edit_message(
        &self,
        message_id: String,
        text: String,
        target: Option<String>,
    ) -> impl Future<Output = Result<SentMessage, AccountError>> + Send + 'static {
        self.on_message(target, move |d, room| async move {
            d.edit_message_in(&message_id, &text, room.as_ref()).await
        })
    }

    /// Delete one of the bot's own messages; with `target`, only in that room.
    pub fn delete_message(
        &self,
        message_id: String,
        target: Option<String>,
    ) -> impl Future<Output = Result<(), AccountError>> + Send + 'static {
        self.on_message(target, move |d, room| async move {
            d.delete_message_in(&message_id, room.as_ref()).await
        })
    }

    /// Resolve `target` to a room, then run a delivery there. The future owns everything, so
    /// callers can release their locks before the network round trips.
    fn in_room<T, F, Fut>(
        &self,
        target: String,
        f: F,
    ) -> impl Future<Output = Result<T, AccountError>> + Send + 'static
    where
        F: FnOnce(Deliverer, String) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DeliveryError>> + Send + 'static,
        T: Send + 'static,
    {
        let shared = self.shared.clone();
        async move {
            let rid = shared.resolve(&target).await?;
            f(shared.deliverer.clone(), rid)
                .await
                .map_err(|e| shared.delivery_err(e))
        }
    }

    /// Run an action on a message (reactions, pins, edits, deletes), with the room it must
    /// be in when `target` names one (resolved first).
    fn on_message<T, F, Fut>(
        &self,
        target: Option<String>,
        f: F,
    ) -> impl Future<Output = Result<T, AccountError>> + Send + 'static
    where
        F: FnOnce(Deliverer, Option<InRoom>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DeliveryError>> + Send + 'static,
        T: Send + 'static,
    {
        let shared = self.shared.clone();
        async move {
            let room = match target {
                Some(target) => Some(InRoom {
                    room_id: shared.resolve(&target).await?,
                    target,
                }),
                None => None,
            };
            f(shared.deliverer.clone(), room)
                .await
                .map_err(|e| shared.delivery_err(e))
        }
    }
}

impl Shared {
    /// The room id for a target, reporting a failure as a `sendFailed` event.
    async fn resolve(&self, target: &str) -> Result<String, AccountError> {
        let target = Target::parse(target).map_err(|source| AccountError::Target {
            account: self.id.clone(),
            source,
        })?;
        target.resolve(&self.rest).await.map_err(|e| {
            self.queue.push(
                Some(&self.id),
                Event::SendFailed {
                    room_id: target.to_string(),
                    error: e.to_string(),
                },
            );
            AccountError::Rest {
                account: self.id.clone(),
                source: Box::new(e),
            }
        })
    }

    fn delivery_err(&self, source: DeliveryError) -> AccountError {
        AccountError::Delivery {
            account: self.id.clone(),
            source: Box::new(source),
        }
    }
}

/// The deliverer's event hook: count sends, extend the conversation window where the bot
/// spoke, and pass the event to the host.
fn sent_hook(
    account_id: &str,
    queue: Arc<EventQueue>,
    status: Arc<Mutex<AccountStatus>>,
    gate: Arc<Mutex<Gate>>,
) -> EventHook {
    let id = account_id.to_owned();
    Arc::new(move |event: Event| {
        if let Event::ReplyClaimed { .. } = &event {
            status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .claimed_elsewhere += 1;
        }
        if let Event::Sent {
            room_id, thread_id, ..
        } = &event
        {
            let now = now_ms();
            {
                let mut st = status.lock().unwrap_or_else(|e| e.into_inner());
                st.sent += 1;
                st.last_outbound_at = Some(now);
            }
            gate.lock()
                .unwrap_or_else(|e| e.into_inner())
                .note_bot_spoke(room_id, thread_id.as_deref(), now);
        }
        queue.push(Some(&id), event);
    })
}

/// The TLS client settings of an account (`tls.*`), for its REST and WebSocket connections.
pub(crate) fn account_tls(
    config: &AccountConfig,
) -> Result<Arc<rustls::ClientConfig>, AccountError> {
    tls::client_config(&TlsOptions {
        ca_pem: config.tls.ca_pem.clone(),
        ca_file: config.tls.ca_file.clone().map(Into::into),
        insecure_skip_verify: config.tls.insecure_skip_verify,
    })
    .map_err(|source| AccountError::Tls {
        account: config.account_id.clone(),
        source,
    })
}
