//! [`Core`]: what a host holds. One tokio runtime for every account, one event queue,
//! accounts started, stopped and reloaded by id.
//!
//! Every async method runs its work on the core's own runtime (whatever runtime the caller
//! awaits from, e.g. napi's), so account tasks always live on the core's threads. Blocking
//! hosts (the C ABI) call [`Core::block_on`] from their own threads.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::account::{Account, AccountError, AccountOptions, AccountStatus, AllowlistUpdate};
use crate::config::{self, AccountConfig, ConfigErrors, EnvSource};
use crate::event_queue::{EventQueue, DEFAULT_CAPACITY};
use crate::outbound::{MediaFile, ReplyStream, SentMessage};
use crate::send_order::in_turn;

/// How to build a [`Core`].
#[derive(Clone, Debug)]
pub struct CoreOptions {
    /// Runtime worker threads (2 suits hundreds of accounts: the work is I/O).
    pub worker_threads: usize,
    /// Events held for the host before producers wait or overflow.
    pub event_capacity: usize,
    /// Supervisor timings for every account.
    pub account: AccountOptions,
    /// The core's own log lines at this level and above become `log` events (none: no
    /// `log` events).
    pub log_level: Option<crate::event::LogLevel>,
}

impl Default for CoreOptions {
    fn default() -> Self {
        CoreOptions {
            worker_threads: 2,
            event_capacity: DEFAULT_CAPACITY,
            account: AccountOptions::default(),
            log_level: None,
        }
    }
}

/// Errors of the core's API.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The runtime could not be created.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// The configuration is invalid (one line per problem).
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// No account with this id is running.
    #[error("no running account {0:?}")]
    UnknownAccount(String),
    /// An account failed to start or act.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The core was closed.
    #[error("the core is closed")]
    Closed,
}

/// What [`Core::apply_config`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReloadReport {
    /// Accounts started that were not running.
    pub started: Vec<String>,
    /// Accounts restarted because their configuration changed.
    pub restarted: Vec<String>,
    /// Accounts stopped (removed or disabled).
    pub stopped: Vec<String>,
    /// Accounts left running untouched.
    pub unchanged: Vec<String>,
    /// Configuration warnings (one line each).
    pub warnings: Vec<String>,
}

/// The core: runtime, event queue and accounts.
pub struct Core {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    queue: Arc<EventQueue>,
    accounts: Arc<Mutex<BTreeMap<String, Account>>>,
    /// Allowlist changes per account id, re-applied when an account restarts, so a
    /// configuration reload never forgets a pairing approval.
    allowlists: Arc<std::sync::Mutex<BTreeMap<String, Vec<AllowlistUpdate>>>>,
    options: CoreOptions,
    /// Sends per account and target, in the order the host made them.
    send_order: crate::send_order::SendQueues,
}

impl Core {
    /// Start a core (its runtime threads are named `rocketchat-core`).
    pub fn new(options: CoreOptions) -> Result<Core, CoreError> {
        let queue = Arc::new(EventQueue::new(options.event_capacity));
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder
            .worker_threads(options.worker_threads.max(1))
            .thread_name("rocketchat-core")
            .enable_all();
        if let Some(level) = options.log_level {
            let sink = tracing::Dispatch::new(crate::logs::LogSink::new(queue.clone(), level));
            builder.on_thread_start(move || crate::logs::enter_thread(&sink));
        }
        let runtime = builder.build().map_err(CoreError::Runtime)?;
        Ok(Core {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            queue,
            accounts: Arc::default(),
            allowlists: Arc::default(),
            options,
            send_order: Default::default(),
        })
    }

    /// The event queue hosts pull from.
    pub fn events(&self) -> &Arc<EventQueue> {
        &self.queue
    }

    /// The runtime handle (for bindings that spawn their own tasks on it).
    pub fn runtime_handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Run a future to completion on the core's runtime, blocking this thread. Not for use
    /// from inside a runtime (it would panic); the C ABI calls it from host threads.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.handle.block_on(fut)
    }

    /// Run `f` on the core's runtime and await it from anywhere.
    async fn on_runtime<T, F>(&self, fut: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        run_on(&self.handle, fut).await
    }

    /// Start an account (or restart it when one with the same id runs).
    pub async fn start_account(&self, config: AccountConfig) -> Result<(), CoreError> {
        if self.queue.is_closed() {
            return Err(CoreError::Closed);
        }
        let accounts = self.accounts.clone();
        let queue = self.queue.clone();
        let options = self.options.account.clone();
        let handle = self.handle.clone();
        let updates = self
            .allowlists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&config.account_id)
            .cloned()
            .unwrap_or_default();
        self.on_runtime(async move {
            let mut accounts = accounts.lock().await;
            // A restart continues from the old run's gate (pending pairing requests, open
            // conversation windows, approvals), taken once it has stopped judging messages.
            let carried = match accounts.remove(&config.account_id) {
                Some(old) => Some(old.stop_keeping_gate().await),
                None => None,
            };
            let id = config.account_id.clone();
            let restarted = carried.is_some();
            let account = Account::start_with_gate(config, options, queue, &handle, carried)?;
            for update in &updates {
                if restarted {
                    // Approvals and revocations are in the carried gate already (replaying
                    // them would also forget pending requests); the new config reset the
                    // lists the host replaced, so those are applied again.
                    account.update_allowlist(&AllowlistUpdate {
                        allow_from: update.allow_from.clone(),
                        group_allow_from: update.group_allow_from.clone(),
                        ..AllowlistUpdate::default()
                    });
                } else {
                    account.update_allowlist(update);
                }
            }
            accounts.insert(id, account);
            Ok(())
        })
        .await
    }

    /// Stop an account. Returns false when none ran with that id.
    pub async fn stop_account(&self, account_id: &str) -> bool {
        let accounts = self.accounts.clone();
        let id = account_id.to_owned();
        self.on_runtime(async move {
            let account = accounts.lock().await.remove(&id);
            match account {
                Some(a) => {
                    a.stop().await;
                    true
                }
                None => false,
            }
        })
        .await
    }

    /// Apply a whole `channels.rocketchat` object: start new accounts, restart changed ones,
    /// stop removed or disabled ones, leave the rest running untouched. Invalid configuration
    /// changes nothing and returns every problem.
    pub async fn apply_config(
        &self,
        section: &Value,
        env: &(impl EnvSource + ?Sized),
    ) -> Result<ReloadReport, CoreError> {
        let resolved = config::resolve(section, env)?;
        let mut report = ReloadReport {
            warnings: resolved.warnings.iter().map(ToString::to_string).collect(),
            ..Default::default()
        };
        let wanted: BTreeMap<String, AccountConfig> = resolved
            .accounts
            .into_iter()
            .filter(|a| a.enabled)
            .map(|a| (a.account_id.clone(), a))
            .collect();
        let running: Vec<(String, AccountConfig)> = {
            let accounts = self.accounts.lock().await;
            accounts
                .iter()
                .map(|(id, a)| (id.clone(), a.config().clone()))
                .collect()
        };
        for (id, old) in &running {
            match wanted.get(id) {
                None => {
                    self.stop_account(id).await;
                    report.stopped.push(id.clone());
                }
                Some(new) if new != old => {
                    self.start_account(new.clone()).await?;
                    report.restarted.push(id.clone());
                }
                Some(_) => report.unchanged.push(id.clone()),
            }
        }
        for (id, config) in wanted {
            if !running.iter().any(|(r, _)| r == &id) {
                self.start_account(config).await?;
                report.started.push(id);
            }
        }
        Ok(report)
    }

    /// Change an account's allowlists now (pairing approvals, host edits); kept across
    /// restarts of that account.
    pub async fn update_allowlist(
        &self,
        account_id: &str,
        update: AllowlistUpdate,
    ) -> Result<(), CoreError> {
        let accounts = self.accounts.lock().await;
        let account = accounts
            .get(account_id)
            .ok_or_else(|| CoreError::UnknownAccount(account_id.to_owned()))?;
        account.update_allowlist(&update);
        self.allowlists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(account_id.to_owned())
            .or_default()
            .push(update);
        Ok(())
    }

    /// The configuration a running account runs with.
    pub async fn running_config(&self, account_id: &str) -> Option<AccountConfig> {
        self.accounts
            .lock()
            .await
            .get(account_id)
            .map(|a| a.config().clone())
    }

    /// Ids of the running accounts.
    pub async fn account_ids(&self) -> Vec<String> {
        self.accounts.lock().await.keys().cloned().collect()
    }

    /// One account's status.
    pub async fn status(&self, account_id: &str) -> Option<AccountStatus> {
        self.accounts
            .lock()
            .await
            .get(account_id)
            .map(Account::status)
    }

    /// Every running account's status.
    pub async fn statuses(&self) -> Vec<AccountStatus> {
        self.accounts
            .lock()
            .await
            .values()
            .map(Account::status)
            .collect()
    }

    /// Run an account's owned future on the core runtime, without holding the accounts lock
    /// across the network.
    async fn with_account<T, F, Fut>(&self, account_id: &str, f: F) -> Result<T, CoreError>
    where
        F: FnOnce(&Account) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AccountError>> + Send + 'static,
        T: Send + 'static,
    {
        self.on_runtime(account_call(
            self.accounts.clone(),
            account_id.to_owned(),
            f,
        ))
        .await
    }

    /// [`Core::with_account`] for a send to `target`: its place in the queue of sends to
    /// that target is taken now, when the send is made, since the task that runs it may
    /// start later than one made after it. The future owns what it needs, so a host can
    /// make it before handing it to another task.
    fn queued_send<T, F, Fut>(
        &self,
        account_id: &str,
        target: &str,
        f: F,
    ) -> impl Future<Output = Result<T, CoreError>> + Send + 'static
    where
        F: FnOnce(&Account) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, AccountError>> + Send + 'static,
        T: Send + 'static,
    {
        // `GENERAL`, `room:GENERAL` and `channel:GENERAL` share one queue
        let target = crate::outbound::target::Target::parse(target)
            .map_or_else(|_| target.to_owned(), |t| t.to_string());
        let turn = self.send_order.enqueue(&format!("{account_id}\n{target}"));
        let call = account_call(self.accounts.clone(), account_id.to_owned(), move |a| {
            in_turn(turn, f(a))
        });
        let handle = self.handle.clone();
        async move { run_on(&handle, call).await }
    }

    /// Send a text the host composed (see [`Account::send_text`]): chunked, no reply prefix.
    /// Sends to one target are posted in the order this was called, awaited or not.
    pub fn send_text(
        &self,
        account_id: &str,
        target: &str,
        text: &str,
        thread_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<SentMessage>, CoreError>> + Send + 'static {
        let (to, text, thread) = (
            target.to_owned(),
            text.to_owned(),
            thread_id.map(str::to_owned),
        );
        self.queued_send(account_id, target, move |a| {
            a.send_text(to, text, thread, None)
        })
    }

    /// Deliver an agent's reply (see [`Account::send_reply`]): prefix, tables, chunks, typing.
    /// In call order per target, as [`Core::send_text`].
    pub fn send_reply(
        &self,
        account_id: &str,
        target: &str,
        text: &str,
        thread_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<SentMessage>, CoreError>> + Send + 'static {
        self.send_reply_to(account_id, target, text, thread_id, None, false)
    }

    /// [`Core::send_reply`] (or, `plain`, [`Core::send_text`]) as the answer to message
    /// `reply_to`: a second instance of the bot answering it too posts no second copy.
    pub fn send_reply_to(
        &self,
        account_id: &str,
        target: &str,
        text: &str,
        thread_id: Option<&str>,
        reply_to: Option<&str>,
        plain: bool,
    ) -> impl Future<Output = Result<Vec<SentMessage>, CoreError>> + Send + 'static {
        let (to, text, thread, reply) = (
            target.to_owned(),
            text.to_owned(),
            thread_id.map(str::to_owned),
            reply_to.map(str::to_owned),
        );
        self.queued_send(account_id, target, move |a| {
            use futures_util::future::Either;
            if plain {
                Either::Left(a.send_text(to, text, thread, reply))
            } else {
                Either::Right(a.send_reply(to, text, thread, reply))
            }
        })
    }

    /// Upload files (see [`Account::send_media`]), in call order per target.
    pub fn send_media(
        &self,
        account_id: &str,
        target: &str,
        thread_id: Option<&str>,
        files: Vec<MediaFile>,
        caption: Option<&str>,
    ) -> impl Future<Output = Result<Vec<SentMessage>, CoreError>> + Send + 'static {
        let (to, thread, caption) = (
            target.to_owned(),
            thread_id.map(str::to_owned),
            caption.map(str::to_owned),
        );
        self.queued_send(account_id, target, move |a| {
            a.send_media(to, thread, files, caption)
        })
    }

    /// Start a block-streamed reply (see [`Account::start_stream`]).
    pub async fn start_stream(
        &self,
        account_id: &str,
        target: &str,
        thread_id: Option<&str>,
        placeholder: Option<&str>,
        reply_to: Option<&str>,
    ) -> Result<ReplyStream, CoreError> {
        let (target, thread) = (target.to_owned(), thread_id.map(str::to_owned));
        let (placeholder, reply) = (placeholder.map(str::to_owned), reply_to.map(str::to_owned));
        self.with_account(account_id, move |a| {
            a.start_stream(target, thread, placeholder, reply)
        })
        .await
    }

    /// Download an inbound file (see [`Account::download`]).
    pub async fn download(
        &self,
        account_id: &str,
        url: &str,
        room_id: Option<&str>,
    ) -> Result<crate::rest::Download, CoreError> {
        let (url, room) = (url.to_owned(), room_id.map(str::to_owned));
        self.with_account(account_id, move |a| a.download(url, room))
            .await
    }

    /// Add or remove the bot's reaction on a message.
    pub async fn react(
        &self,
        account_id: &str,
        message_id: &str,
        emoji: &str,
        add: bool,
    ) -> Result<(), CoreError> {
        self.react_in(account_id, message_id, emoji, add, None)
            .await
    }

    /// [`Core::react`]; with `target`, refused (FORBIDDEN) unless the message is in that room.
    pub async fn react_in(
        &self,
        account_id: &str,
        message_id: &str,
        emoji: &str,
        add: bool,
        target: Option<&str>,
    ) -> Result<(), CoreError> {
        let (message_id, emoji) = (message_id.to_owned(), emoji.to_owned());
        let target = target.map(str::to_owned);
        self.with_account(account_id, move |a| a.react(message_id, emoji, add, target))
            .await
    }

    /// Pin (`pin`) or unpin a message; with `target`, refused unless it is in that room.
    pub async fn pin(
        &self,
        account_id: &str,
        message_id: &str,
        pin: bool,
        target: Option<&str>,
    ) -> Result<(), CoreError> {
        let message_id = message_id.to_owned();
        let target = target.map(str::to_owned);
        self.with_account(account_id, move |a| a.pin(message_id, pin, target))
            .await
    }

    /// Replace the text of one of the bot's messages.
    pub async fn edit_message(
        &self,
        account_id: &str,
        message_id: &str,
        text: &str,
    ) -> Result<SentMessage, CoreError> {
        self.edit_message_in(account_id, message_id, text, None)
            .await
    }

    /// [`Core::edit_message`]; with `target`, refused unless the message is in that room.
    pub async fn edit_message_in(
        &self,
        account_id: &str,
        message_id: &str,
        text: &str,
        target: Option<&str>,
    ) -> Result<SentMessage, CoreError> {
        let (message_id, text) = (message_id.to_owned(), text.to_owned());
        let target = target.map(str::to_owned);
        self.with_account(account_id, move |a| {
            a.edit_message(message_id, text, target)
        })
        .await
    }

    /// Delete one of the bot's messages.
    pub async fn delete_message(
        &self,
        account_id: &str,
        message_id: &str,
    ) -> Result<(), CoreError> {
        self.delete_message_in(account_id, message_id, None).await
    }

    /// [`Core::delete_message`]; with `target`, refused unless the message is in that room.
    pub async fn delete_message_in(
        &self,
        account_id: &str,
        message_id: &str,
        target: Option<&str>,
    ) -> Result<(), CoreError> {
        let message_id = message_id.to_owned();
        let target = target.map(str::to_owned);
        self.with_account(account_id, move |a| a.delete_message(message_id, target))
            .await
    }

    /// A room's messages matching `query`, newest first, filtered by the access rules (see
    /// [`Account::search`]).
    pub async fn search(
        &self,
        account_id: &str,
        target: &str,
        query: &str,
        limit: u32,
    ) -> Result<Vec<crate::event::InboundMessage>, CoreError> {
        let (target, query) = (target.to_owned(), query.to_owned());
        self.with_account(account_id, move |a| a.search(target, query, limit))
            .await
    }

    /// The bot's rooms the access rules leave open (see [`Account::rooms`]).
    pub async fn rooms(
        &self,
        account_id: &str,
    ) -> Result<Vec<crate::account::RoomEntry>, CoreError> {
        self.with_account(account_id, |a| a.rooms()).await
    }

    /// A room's description (see [`Account::room_info`]).
    pub async fn room_info(
        &self,
        account_id: &str,
        target: &str,
    ) -> Result<crate::account::RoomInfo, CoreError> {
        let target = target.to_owned();
        self.with_account(account_id, move |a| a.room_info(target))
            .await
    }

    /// A user's public profile (see [`Account::user_info`]).
    pub async fn user_info(
        &self,
        account_id: &str,
        user: &str,
    ) -> Result<crate::account::UserInfo, CoreError> {
        let user = user.to_owned();
        self.with_account(account_id, move |a| a.user_info(user))
            .await
    }

    /// The room id a send target names (see [`Account::resolve_target`]).
    pub async fn resolve_target(
        &self,
        account_id: &str,
        target: &str,
    ) -> Result<String, CoreError> {
        let target = target.to_owned();
        self.with_account(account_id, move |a| a.resolve_target(target))
            .await
    }

    /// Show or stop the bot typing (see [`Account::set_typing`]).
    pub async fn set_typing(
        &self,
        account_id: &str,
        target: &str,
        thread_id: Option<&str>,
        active: bool,
    ) -> Result<(), CoreError> {
        let (target, thread) = (target.to_owned(), thread_id.map(str::to_owned));
        self.with_account(account_id, move |a| a.set_typing(target, thread, active))
            .await
    }

    /// Mark a room read for the bot (see [`Account::mark_read`]).
    pub async fn mark_read(
        &self,
        account_id: &str,
        target: &str,
        read_threads: Option<bool>,
    ) -> Result<(), CoreError> {
        let target = target.to_owned();
        self.with_account(account_id, move |a| a.mark_read(target, read_threads))
            .await
    }

    /// A room's or thread's recent messages, filtered by the access rules (see
    /// [`Account::history`]).
    pub async fn history(
        &self,
        account_id: &str,
        target: &str,
        thread_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<crate::event::InboundMessage>, CoreError> {
        let (target, thread) = (target.to_owned(), thread_id.map(str::to_owned));
        self.with_account(account_id, move |a| a.history(target, thread, limit))
            .await
    }

    /// Check an account's server and credentials once, without starting it (see
    /// [`crate::account::probe`]).
    pub async fn probe(
        &self,
        config: AccountConfig,
    ) -> Result<crate::account::ProbeResult, CoreError> {
        if self.queue.is_closed() {
            return Err(CoreError::Closed);
        }
        let rest = self.options.account.rest.clone();
        self.on_runtime(async move { Ok(crate::account::probe(&config, &rest).await?) })
            .await
    }

    /// Stop every account and close the event queue (consumers drain it, then get `None`).
    /// Idempotent.
    pub async fn close(&self) {
        let accounts = self.accounts.clone();
        self.on_runtime(async move {
            let all: Vec<Account> = std::mem::take(&mut *accounts.lock().await)
                .into_values()
                .collect();
            for a in all {
                a.stop().await;
            }
        })
        .await;
        self.queue.close();
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.queue.close();
        if let Some(rt) = self.runtime.take() {
            // Dropping a runtime inside another runtime panics; never block the caller long.
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Spawn `fut` on the core runtime and wait for it (a panic in it resumes here).
async fn run_on<T, F>(handle: &tokio::runtime::Handle, fut: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    match handle.spawn(fut).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => unreachable!("core tasks are never cancelled while awaited"),
    }
}

/// Look up account `id` and run `f`'s future, outside the accounts lock.
async fn account_call<T, F, Fut>(
    accounts: Arc<Mutex<BTreeMap<String, Account>>>,
    id: String,
    f: F,
) -> Result<T, CoreError>
where
    F: FnOnce(&Account) -> Fut,
    Fut: Future<Output = Result<T, AccountError>>,
{
    let fut = {
        let guard = accounts.lock().await;
        let account = guard
            .get(&id)
            .ok_or_else(|| CoreError::UnknownAccount(id.clone()))?;
        f(account)
    };
    Ok(fut.await?)
}
