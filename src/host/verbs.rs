//! The verb list: every capability a host has, with its argument and result types. C reaches
//! each verb through `rcc_call` (and a few typed wrappers), Node through one method per verb;
//! both go through [`Host::call`], so a verb means the same everywhere.
//!
//! Adding a verb (the recipe in `ARCHITECTURE.md`): an argument struct here, a method on
//! [`Host`] in `host/mod.rs`, a line in `verbs!` below; then one `#[napi]` method in
//! `bindings/node/src/lib.rs`, `node bindings/node/scripts/gen-types.mjs` to regenerate
//! `index.d.ts`, a row in `tests/contract/cases.json`, and a row in `rcc_call`'s verb table
//! (`bindings/c/src/core.rs`; then `UPDATE_HEADER=1 cargo test -p rocketchat-c --test header`).
//! The Node and contract tests fail while a method, the types or a case is missing.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{ErrorCode, HostError};
use super::Host;
use crate::account::{AccountStatus, AllowlistUpdate, ProbeResult, RoomEntry, RoomInfo, UserInfo};
use crate::event::InboundMessage;
use crate::outbound::SentMessage;
use crate::ReloadReport;

/// `applyConfig`: the whole `channels.rocketchat` object.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyConfigArgs {
    /// The `channels.rocketchat` object.
    pub config: Value,
    /// Let the `ROCKETCHAT_*` environment variables fill the default account (default false).
    #[serde(default)]
    pub use_process_env: bool,
}

/// `startAccount`: start (or restart with a changed configuration) one account.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartAccountArgs {
    /// The account id (`default` for the top-level account).
    pub account_id: String,
    /// A new `channels.rocketchat` object to take the account from (and to remember for
    /// later `startAccount`/`restartAccount` calls); default: the last one applied. Other
    /// accounts are not touched.
    #[serde(default)]
    pub config: Option<Value>,
    /// With `config`: let the `ROCKETCHAT_*` environment variables fill the default account.
    #[serde(default)]
    pub use_process_env: bool,
}

/// What `startAccount` and `restartAccount` return.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStarted {
    /// The account's status right after the start (connecting happens in the background:
    /// watch for `authenticated` or `authFailed`).
    pub status: AccountStatus,
    /// Configuration warnings (one line each, naming the key).
    pub warnings: Vec<String>,
}

/// `probe`: log in once with an account's configuration and say who the bot is, without
/// starting it (setup wizards check credentials with it before saving).
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeArgs {
    /// The account id (default `default`).
    #[serde(default)]
    pub account_id: Option<String>,
    /// The `channels.rocketchat` object to take the account from (not remembered, nothing
    /// is started); default: the last one applied.
    #[serde(default)]
    pub config: Option<Value>,
    /// With `config`: let the `ROCKETCHAT_*` environment variables fill the default account.
    #[serde(default)]
    pub use_process_env: bool,
}

/// A verb that names one account.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountArgs {
    /// The account id.
    pub account_id: String,
}

/// `status`: one account, or every running one.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusArgs {
    /// The account id; absent: every running account, as an array.
    #[serde(default)]
    pub account_id: Option<String>,
}

/// `sendText` and `sendReply`.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendArgs {
    /// The account id.
    pub account_id: String,
    /// `room:ID`, `channel:ID`, `#name`, `@username`, `user:ID`, or a bare room id.
    pub target: String,
    /// The text (markdown).
    pub text: String,
    /// Reply in this thread (its root message id).
    #[serde(default)]
    pub thread_id: Option<String>,
    /// The message this answers. Its messages then get ids derived from it, so when two
    /// instances of the bot (two gateways) answer the same message, the server refuses the
    /// second copy: the first to post claims the reply, the other posts nothing more of it
    /// and reports `replyClaimed`.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// One file of `sendMedia`: its bytes from `path` (read by the core) or `base64`.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaFileArgs {
    /// A local file to upload.
    #[serde(default)]
    pub path: Option<String>,
    /// The bytes, base64-encoded (instead of `path`).
    #[serde(default)]
    pub base64: Option<String>,
    /// The name shown in the room (default: the file name of `path`, else `file`).
    #[serde(default)]
    pub file_name: Option<String>,
    /// The MIME type (default: from the name's extension, else `application/octet-stream`).
    #[serde(default)]
    pub mime: Option<String>,
}

/// `sendMedia`: upload files, one message each, the caption on the first.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendMediaArgs {
    /// The account id.
    pub account_id: String,
    /// Where to (targets as in `sendText`).
    pub target: String,
    /// In this thread.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// The files (at least one), each within `mediaMaxMb`.
    pub files: Vec<MediaFileArgs>,
    /// Text shown with the first file.
    #[serde(default)]
    pub caption: Option<String>,
}

/// `typing`: show or stop the "is typing…" indicator.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypingArgs {
    /// The account id.
    pub account_id: String,
    /// Where (targets as in `sendText`).
    pub target: String,
    /// In this thread.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// On (refreshed by the core until turned off) or off.
    pub active: bool,
}

/// `streamStart`: begin a block-streamed reply.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamStartArgs {
    /// The account id.
    pub account_id: String,
    /// Where to (targets as in `sendText`).
    pub target: String,
    /// In this thread.
    #[serde(default)]
    pub thread_id: Option<String>,
    /// A live message: post this text at once ("Working…"), show `streamStatus` progress in
    /// it, and edit it into the reply as the text comes (new messages only when the reply
    /// outgrows one). Finishing without text deletes it; aborting leaves the last status.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// The message this answers (as in `sendReply`): a second instance's copy is not posted.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// What `streamStart` returns.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamHandle {
    /// Pass it to `streamPush`, `streamFinish`, `streamAbort`.
    pub stream_id: u64,
}

/// `streamPush`: add a piece of the reply; `streamStatus`: a live message's progress line.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamPushArgs {
    /// From `streamStart`.
    pub stream_id: u64,
    /// The next piece of text.
    pub text: String,
}

/// `streamFinish` and `streamAbort`.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StreamArgs {
    /// From `streamStart`.
    pub stream_id: u64,
}

/// `download`: fetch an inbound file with the account's credentials.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadArgs {
    /// The account id.
    pub account_id: String,
    /// The attachment's URL (absolute on the server's origin, or server-relative).
    pub url: String,
    /// The room it was posted in (for its `mediaMaxMb`).
    #[serde(default)]
    pub room_id: Option<String>,
    /// Write the file here (created or replaced); absent: the bytes come back as `base64`.
    #[serde(default)]
    pub path: Option<String>,
}

/// What `download` returns.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Downloaded {
    /// A safe file name (from the server or the URL).
    pub file_name: String,
    /// The server's `Content-Type`, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Where it was written, when `path` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The bytes, base64-encoded, when no `path` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// `react`: add or remove the bot's reaction.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactArgs {
    /// The account id.
    pub account_id: String,
    /// The message.
    pub message_id: String,
    /// `:thumbsup:`, `thumbsup`, or a Unicode emoji (`👍`, `👀`, `✅`, …) the core knows the
    /// Rocket.Chat name of; another Unicode emoji is INVALID_ARGUMENT, without a request.
    pub emoji: String,
    /// Add (default) or remove.
    #[serde(default = "yes")]
    pub add: bool,
    /// The conversation the caller acts in (targets as in `sendText`): when given, a message
    /// elsewhere is refused (FORBIDDEN "message <id> is not in <target>").
    #[serde(default)]
    pub target: Option<String>,
}

fn yes() -> bool {
    true
}

/// `editMessage`: replace the text of one of the bot's messages.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditArgs {
    /// The account id.
    pub account_id: String,
    /// One of the bot's messages.
    pub message_id: String,
    /// The new text (within one message's length).
    pub text: String,
    /// The conversation the caller acts in (as in `react`): a message elsewhere is FORBIDDEN.
    #[serde(default)]
    pub target: Option<String>,
}

/// `deleteMessage`: delete one of the bot's messages.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageArgs {
    /// The account id.
    pub account_id: String,
    /// One of the bot's messages.
    pub message_id: String,
    /// The conversation the caller acts in (as in `react`): a message elsewhere is FORBIDDEN.
    #[serde(default)]
    pub target: Option<String>,
}

/// `pin` and `unpin`: pin a message to its room, or take the pin off.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinArgs {
    /// The account id.
    pub account_id: String,
    /// The message (anyone's, in a room the bot is in).
    pub message_id: String,
    /// The conversation the caller acts in (as in `react`): a message elsewhere is FORBIDDEN.
    #[serde(default)]
    pub target: Option<String>,
}

/// `search`: a room's messages whose text contains a string.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchArgs {
    /// The account id.
    pub account_id: String,
    /// The room (targets as in `sendText`).
    pub target: String,
    /// The text to look for (not blank; the server matches it case-insensitively).
    pub query: String,
    /// How many of the newest matches, 1 to 100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `roomInfo`: describe a room.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomInfoArgs {
    /// The account id.
    pub account_id: String,
    /// The room (targets as in `sendText`; `@username` opens the DM).
    pub target: String,
}

/// `userInfo`: describe a user.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserInfoArgs {
    /// The account id.
    pub account_id: String,
    /// `@username`, `username` or `user:ID`.
    pub user: String,
}

/// `updateAllowlist`: change who may talk to the bot, now, without a restart.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowlistArgs {
    /// The account id.
    pub account_id: String,
    /// The change; kept across restarts of the account.
    #[serde(flatten)]
    pub update: AllowlistUpdate,
}

/// `history`: a room's or thread's recent messages.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryArgs {
    /// The account id.
    pub account_id: String,
    /// The room (targets as in `sendText`).
    pub target: String,
    /// Only this thread (its root first).
    #[serde(default)]
    pub thread_id: Option<String>,
    /// How many of the newest messages, 1 to 100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `markRead`: mark a room read for the bot.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkReadArgs {
    /// The account id.
    pub account_id: String,
    /// The room (targets as in `sendText`).
    pub target: String,
    /// Also mark the room's threads read (default: the server's default, which leaves them).
    #[serde(default)]
    pub read_threads: Option<bool>,
}

/// `resolveTarget`: the room a target names.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveArgs {
    /// The account id.
    pub account_id: String,
    /// A target as in `sendText`.
    pub target: String,
}

/// What `resolveTarget` returns.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    /// The room id.
    pub room_id: String,
}

/// What `status` returns: one account's status (`null` when it is not running), or, without
/// an `accountId`, every running account's.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusResult {
    /// Every running account.
    All(Vec<AccountStatus>),
    /// The one asked for.
    One(Option<Box<AccountStatus>>),
}

/// Verbs without arguments take `{}` (or `null`).
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Results of verbs that return nothing.
#[derive(Serialize, JsonSchema)]
pub struct Done;

macro_rules! verbs {
    ($( $(#[doc = $doc:literal])+ $name:literal => $method:ident($args:ty) -> $ret:ty; )+) => {
        /// Every verb's name, in the documented order.
        pub const VERB_NAMES: &[&str] = &[$($name),+];

        impl Host {
            /// Run `verb` with its JSON arguments (an object; `null` for none): the one entry
            /// every binding uses. Errors are redacted. The arguments are checked, and a send
            /// takes its place in its room's queue, when this is called, not when the future
            /// first runs: sends are posted in the order the host made them, awaited or not.
            pub fn call(
                self: &Arc<Self>,
                verb: &str,
                args: Value,
            ) -> futures_util::future::BoxFuture<'static, Result<Value, HostError>> {
                let redactor = self.redactor();
                match verb {
                    $($name => match parse_args::<$args>($name, args) {
                        Ok(args) => {
                            let run = Arc::clone(self).$method(args);
                            Box::pin(async move {
                                run.await
                                    .and_then(|out: $ret| to_result(&out))
                                    .map_err(|e| e.redacted(&redactor))
                            })
                        }
                        Err(e) => Box::pin(std::future::ready(Err(e.redacted(&redactor)))),
                    },)+
                    other => Box::pin(std::future::ready(Err(HostError::invalid(
                        "call",
                        format!("unknown verb {other:?}; the verbs are {}", VERB_NAMES.join(", ")),
                    )))),
                }
            }
        }

        /// The JSON Schema of every verb: `{verbs: [{name, doc, args, result}], $defs}`, what
        /// the Node types and the C documentation are generated from.
        pub fn verbs_schema() -> Value {
            let mut generator = schemars::SchemaGenerator::default();
            let verbs = vec![$(json!({
                "name": $name,
                "doc": doc_text(&[$($doc),+]),
                "args": generator.subschema_for::<$args>(),
                "result": generator.subschema_for::<$ret>(),
            })),+];
            // Not a verb (no core needed), but part of the host surface.
            let describe = generator.subschema_for::<Vec<super::describe::AccountSummary>>();
            json!({ "verbs": verbs, "describeConfig": describe, "$defs": generator.definitions() })
        }
    };
}

verbs! {
    /// Apply the whole `channels.rocketchat` object: start new accounts, restart changed
    /// ones, stop removed or disabled ones. Invalid configuration changes nothing (CONFIG,
    /// with `problems`).
    "applyConfig" => apply_config(ApplyConfigArgs) -> ReloadReport;
    /// Start one account from the configuration (restart it when its configuration
    /// changed; leave it running when not). NOT_FOUND when the configuration has no such
    /// account, CONFIG when it is disabled or invalid.
    "startAccount" => start_account(StartAccountArgs) -> AccountStarted;
    /// Stop one account; false when none ran with that id.
    "stopAccount" => stop_account(AccountArgs) -> bool;
    /// Check an account's server and credentials once without starting it: who the bot is,
    /// or NETWORK (baseUrl unreachable), NOT_FOUND/PROTOCOL (baseUrl is not Rocket.Chat), AUTH
    /// (credentials refused), CONFIG (invalid configuration), NOT_FOUND (no such account).
    "probe" => probe(ProbeArgs) -> ProbeResult;
    /// Stop and start one account with the configuration last applied.
    "restartAccount" => restart_account(AccountArgs) -> AccountStarted;
    /// One running account's status (null when not running), or every running account's.
    "status" => status(StatusArgs) -> StatusResult;
    /// Send a text the host composed: tables converted, chunked, no reply prefix, no typing.
    "sendText" => send_text(SendArgs) -> Vec<SentMessage>;
    /// Deliver an agent's reply: reply prefix, tables, chunks, typing meanwhile.
    "sendReply" => send_reply(SendArgs) -> Vec<SentMessage>;
    /// Upload files (one message each, the caption on the first), within `mediaMaxMb`.
    "sendMedia" => send_media(SendMediaArgs) -> Vec<SentMessage>;
    /// Show or stop the bot typing in a room or thread.
    "typing" => typing(TypingArgs) -> Done;
    /// Start a block-streamed reply (typing shows until it ends).
    "streamStart" => stream_start(StreamStartArgs) -> StreamHandle;
    /// Add a piece to a streamed reply; pieces are coalesced per `blockStreamingCoalesce`.
    "streamPush" => stream_push(StreamPushArgs) -> Done;
    /// Show progress in a live message (`streamStart` with a `placeholder`) until its text
    /// starts; ignored after that and by other streams.
    "streamStatus" => stream_status(StreamPushArgs) -> Done;
    /// Finish a streamed reply: send what is buffered; every message of the reply, in order.
    "streamFinish" => stream_finish(StreamArgs) -> Vec<SentMessage>;
    /// Abort a streamed reply: what was posted stays and is returned; the rest is dropped.
    "streamAbort" => stream_abort(StreamArgs) -> Vec<SentMessage>;
    /// Download an inbound file with the account's credentials (server origin only, capped
    /// at `mediaMaxMb`).
    "download" => download(DownloadArgs) -> Downloaded;
    /// Add or remove the bot's reaction on a message (Unicode emoji are sent by their
    /// Rocket.Chat names; one without a known name is INVALID_ARGUMENT). With `target`,
    /// FORBIDDEN for a message in another room.
    "react" => react(ReactArgs) -> Done;
    /// Replace the text of one of the bot's messages (FORBIDDEN for others' messages, and
    /// with `target` for a message in another room).
    "editMessage" => edit_message(EditArgs) -> SentMessage;
    /// Delete one of the bot's messages (FORBIDDEN for others' messages, and with `target`
    /// for a message in another room).
    "deleteMessage" => delete_message(MessageArgs) -> Done;
    /// Pin a message to its room (with `target`, FORBIDDEN for a message in another room).
    "pin" => pin(PinArgs) -> Done;
    /// Take the pin off a message (with `target`, FORBIDDEN for a message in another room).
    "unpin" => unpin(PinArgs) -> Done;
    /// Change an account's allowlists now (pairing approvals, host edits).
    "updateAllowlist" => update_allowlist(AllowlistArgs) -> Done;
    /// A room's or thread's recent messages, oldest first, without those from senders the
    /// access rules shut out; FORBIDDEN for a room they close (naming the key that does).
    "history" => history(HistoryArgs) -> Vec<InboundMessage>;
    /// A room's newest messages containing `query`, newest first, filtered as `history`
    /// filters; FORBIDDEN for a room the access rules close.
    "search" => search(SearchArgs) -> Vec<InboundMessage>;
    /// The bot's channels, groups and DMs (`#name` / `@username` labels), without the rooms
    /// the access rules close.
    "rooms" => rooms(AccountArgs) -> Vec<RoomEntry>;
    /// A room's name, type, topic, description, member count and read-only flag.
    "roomInfo" => room_info(RoomInfoArgs) -> RoomInfo;
    /// A user's id, username, display name, status and roles (public fields only);
    /// NOT_FOUND for an unknown user.
    "userInfo" => user_info(UserInfoArgs) -> UserInfo;
    /// Mark a room read for the bot (its unread count and alert cleared; with `readThreads`
    /// its threads too), so unread in the room means not yet handled.
    "markRead" => mark_read(MarkReadArgs) -> Done;
    /// The room id a send target names.
    "resolveTarget" => resolve_target(ResolveArgs) -> Resolved;
    /// Stop every account and close the event queue (hosts drain it, then it ends).
    "close" => close(NoArgs) -> Done;
}

fn parse_args<T: serde::de::DeserializeOwned>(verb: &str, args: Value) -> Result<T, HostError> {
    let args = if args.is_null() { json!({}) } else { args };
    if !args.is_object() {
        return Err(HostError::invalid(
            verb,
            "the arguments must be a JSON object",
        ));
    }
    serde_json::from_value(args).map_err(|e| HostError::invalid(verb, plain_serde(&e.to_string())))
}

/// A verb's doc comment lines as one text.
fn doc_text(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

fn to_result<T: Serialize>(out: &T) -> Result<Value, HostError> {
    serde_json::to_value(out).map_err(|e| HostError::new(ErrorCode::Internal, e.to_string()))
}

/// serde's messages, without Rust's type names: "expected u32" means a whole number.
pub(crate) fn plain_serde(message: &str) -> String {
    let mut out = message.to_owned();
    for (rust, words) in [
        ("expected u64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
        ("expected struct ", "expected an object "),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected an object"),
    ] {
        out = out.replace(rust, words);
    }
    out
}
