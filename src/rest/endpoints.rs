//! The endpoints the channel uses. Message and room objects are returned as raw JSON
//! (`serde_json::Value`), in Rocket.Chat's REST form.

use std::future::Future;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{new_message_id, Call, CallBody, RestClient, RestError, Retry};
use crate::secret::Secret;

/// `GET /api/v1/me`: the bot's identity.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Me {
    /// User id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Username (may be missing on accounts without one).
    #[serde(default)]
    pub username: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Roles, e.g. `["user","bot"]`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `GET /api/info`: the server version (trimmed to `major.minor` for anonymous callers).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ServerInfo {
    /// e.g. `"8.3"`.
    pub version: String,
}

/// A successful `POST /api/v1/login`.
#[derive(Clone, Debug, PartialEq)]
pub struct LoginResult {
    /// The user's id.
    pub user_id: String,
    /// The new login token.
    pub auth_token: Secret,
    /// The `/me` payload sent with it, when present.
    pub me: Option<Value>,
}

/// `{update, remove}` lists from `rooms.get` / `subscriptions.get`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Updates {
    /// Changed or new objects.
    pub update: Vec<Value>,
    /// Removed objects (ids and `_deletedAt`).
    pub remove: Vec<Value>,
}

/// `chat.syncMessages` result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncResult {
    /// Messages created or changed since `lastUpdate`.
    pub updated: Vec<Value>,
    /// Messages deleted since `lastUpdate`.
    pub deleted: Vec<Value>,
}

/// A message to send with `chat.sendMessage`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutgoingMessage {
    /// Client-chosen `_id`; generated when `None`. Makes retries safe.
    pub id: Option<String>,
    /// Room id.
    pub rid: String,
    /// Markdown text.
    pub msg: String,
    /// Thread root id.
    pub tmid: Option<String>,
    /// Also show a thread reply in the channel (ignored without `tmid`).
    pub tshow: bool,
    /// Extra message fields (`alias`, `emoji`, `attachments`, …).
    pub extra: Map<String, Value>,
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn take(route: &str, mut body: Value, field: &str) -> Result<Value, RestError> {
    match body.get_mut(field).map(Value::take) {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err(RestError::Decode {
            route: route.to_owned(),
            message: format!("response has no `{field}`"),
        }),
    }
}

fn list(body: &Value, field: &str) -> Vec<Value> {
    body.get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// True when the server refused a message because its `_id` already exists
/// (Mongo duplicate key): the first attempt of a retried send landed.
pub(crate) fn is_duplicate_id(err: &RestError) -> bool {
    let Some(text) = err.server_message() else {
        return false;
    };
    let t = text.to_ascii_lowercase();
    t.contains("e11000") || t.contains("duplicate key") || t.contains("duplicate id")
}

/// What became of a [`RestClient::send_claiming`].
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// This call posted it (perhaps on a repeated attempt): the stored message.
    Posted(Value),
    /// Its `_id` was in the room before this call: the message stored under it.
    Taken(Value),
}

/// A failure a repeated attempt may get past (the request may or may not have landed).
fn is_transient(err: &RestError) -> bool {
    matches!(
        err,
        RestError::Server { .. } | RestError::Network { .. } | RestError::Timeout { .. }
    )
}

/// Parse a login response: `{"status":"success","data":{userId,authToken,me}}`, with
/// or without the 7.x+ top-level `success`.
pub fn parse_login(route: &str, body: &Value) -> Result<LoginResult, RestError> {
    let data = body.get("data").unwrap_or(body);
    let user_id = data.get("userId").and_then(Value::as_str);
    let token = data.get("authToken").and_then(Value::as_str);
    match (user_id, token) {
        (Some(u), Some(t)) if !u.is_empty() && !t.is_empty() => Ok(LoginResult {
            user_id: u.to_owned(),
            auth_token: Secret::new(t),
            me: data.get("me").cloned(),
        }),
        _ => Err(RestError::Decode {
            route: route.to_owned(),
            message: "login response has no userId/authToken".into(),
        }),
    }
}

impl RestClient {
    /// `GET /api/v1/me`.
    pub async fn me(&self) -> Result<Me, RestError> {
        let body = self
            .call_json(Method::GET, "me", &["me"], vec![], None, Retry::Idempotent)
            .await?;
        serde_json::from_value(body).map_err(|e| RestError::Decode {
            route: "GET /api/v1/me".into(),
            message: e.to_string(),
        })
    }

    /// `GET /api/info` (outside v1, no auth).
    pub async fn server_info(&self) -> Result<ServerInfo, RestError> {
        let route = "GET /api/info".to_owned();
        let call = Call {
            method: Method::GET,
            url: self.site_url().join("api/info").expect("joins"),
            route: route.clone(),
            query: vec![],
            body: CallBody::Empty,
            auth: false,
            retry: Retry::Idempotent,
            timeout: None,
        };
        let (_, body) = self.execute(call).await?;
        serde_json::from_value(body).map_err(|e| RestError::Decode {
            route,
            message: e.to_string(),
        })
    }

    /// `POST /api/v1/login` with username (or email) and password, plus a 2FA `code`.
    /// Not authenticated; the [`crate::auth::PasswordSession`] uses the same wire format.
    pub async fn login(
        &self,
        user: &str,
        password: &Secret,
        code: Option<&str>,
    ) -> Result<LoginResult, RestError> {
        let route = "POST /api/v1/login".to_owned();
        let mut body = json!({"user": user, "password": password.expose()});
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        let call = Call {
            method: Method::POST,
            url: self.api_endpoint(&["login"]),
            route: route.clone(),
            query: vec![],
            body: CallBody::Json(body),
            auth: false,
            retry: Retry::Once,
            timeout: None,
        };
        let (_, body) = self.execute(call).await?;
        parse_login(&route, &body)
    }

    /// `POST /api/v1/logout`: removes the token in use.
    pub async fn logout(&self) -> Result<(), RestError> {
        self.call_json(
            Method::POST,
            "logout",
            &["logout"],
            vec![],
            None,
            Retry::Once,
        )
        .await
        .map(|_| ())
    }

    /// Send a text message (optionally in thread `tmid`, `tshow` = also to channel) with a
    /// generated client `_id`; returns the message. See [`RestClient::send`].
    pub fn send_message<'a>(
        &'a self,
        rid: &str,
        text: &str,
        tmid: Option<&str>,
        tshow: bool,
    ) -> impl Future<Output = Result<Value, RestError>> + Send + 'a {
        self.send(OutgoingMessage {
            rid: rid.to_owned(),
            msg: text.to_owned(),
            tmid: tmid.map(str::to_owned),
            tshow,
            ..Default::default()
        })
    }

    /// `POST /api/v1/chat.sendMessage`. The message gets a client `_id`, so a retry after a
    /// lost response cannot post twice: when the retry hits a duplicate-`_id` error the
    /// stored message is fetched and returned. Sends to one room run in the order this
    /// function was called.
    pub fn send(
        &self,
        msg: OutgoingMessage,
    ) -> impl Future<Output = Result<Value, RestError>> + Send + '_ {
        let sent = self.send_claiming(msg);
        async move {
            match sent.await? {
                SendOutcome::Posted(m) | SendOutcome::Taken(m) => Ok(m),
            }
        }
    }

    /// [`RestClient::send`], telling a message this call posted from one whose `_id` was
    /// already taken before it (another instance of the bot posted it: see
    /// `outbound::claim`).
    pub fn send_claiming(
        &self,
        msg: OutgoingMessage,
    ) -> impl Future<Output = Result<SendOutcome, RestError>> + Send + '_ {
        let mut ticket = self.room_ticket(&msg.rid);
        async move {
            ticket.wait().await;
            // A caller's id may be taken already (see `outbound::claim`); a fresh random one is not.
            let claimable = msg.id.is_some();
            let id = msg.id.clone().unwrap_or_else(new_message_id);
            let mut m = msg.extra.clone();
            m.insert("_id".into(), json!(id));
            m.insert("rid".into(), json!(msg.rid));
            m.insert("msg".into(), json!(msg.msg));
            if let Some(tmid) = &msg.tmid {
                m.insert("tmid".into(), json!(tmid));
                if msg.tshow {
                    m.insert("tshow".into(), json!(true));
                }
            }
            let body = json!({ "message": m });
            let call = |retry| {
                self.call_json(
                    Method::POST,
                    "chat.sendMessage",
                    &["chat.sendMessage"],
                    vec![],
                    Some(body.clone()),
                    retry,
                )
            };
            // For a caller's id the first attempt is not repeated: a duplicate `_id` in its
            // answer means the id was taken before this call, not that an attempt landed.
            let (res, repeated) = if !claimable {
                (call(Retry::Idempotent).await, true)
            } else {
                match call(Retry::Once).await {
                    Err(e) if is_transient(&e) => (call(Retry::Idempotent).await, true),
                    other => (other, false),
                }
            };
            match res {
                Ok(body) => {
                    take("POST /api/v1/chat.sendMessage", body, "message").map(SendOutcome::Posted)
                }
                Err(e) if is_duplicate_id(&e) => match self.get_message(&id).await {
                    Ok(existing)
                        if existing.get("rid").and_then(Value::as_str) == Some(&msg.rid) =>
                    {
                        if repeated {
                            tracing::debug!(msg_id = %id, "send already landed; returning the stored message");
                            Ok(SendOutcome::Posted(existing))
                        } else {
                            Ok(SendOutcome::Taken(existing))
                        }
                    }
                    _ => Err(e),
                },
                Err(e) => Err(e),
            }
        }
    }

    /// `POST /api/v1/chat.postMessage` with `roomId` (room id) or `channel`
    /// (`#name`, `@username`); not retried on 5xx (no client id). Returns the message.
    pub async fn post_message(
        &self,
        room_id_or_channel: &str,
        text: &str,
        tmid: Option<&str>,
    ) -> Result<Value, RestError> {
        let mut body = if room_id_or_channel.starts_with(['#', '@']) {
            json!({"channel": room_id_or_channel, "text": text})
        } else {
            json!({"roomId": room_id_or_channel, "text": text})
        };
        if let (Some(tmid), Some(_)) = (tmid, body.get("roomId")) {
            body["tmid"] = json!(tmid);
        }
        let body = self
            .call_json(
                Method::POST,
                "chat.postMessage",
                &["chat.postMessage"],
                vec![],
                Some(body),
                Retry::Once,
            )
            .await?;
        take("POST /api/v1/chat.postMessage", body, "message")
    }

    /// `POST /api/v1/chat.update`: edit a message's text; returns the edited message.
    pub async fn update_message(
        &self,
        room_id: &str,
        msg_id: &str,
        text: &str,
    ) -> Result<Value, RestError> {
        let body = self
            .call_json(
                Method::POST,
                "chat.update",
                &["chat.update"],
                vec![],
                Some(json!({"roomId": room_id, "msgId": msg_id, "text": text})),
                Retry::Idempotent,
            )
            .await?;
        take("POST /api/v1/chat.update", body, "message")
    }

    /// `POST /api/v1/chat.delete`.
    pub async fn delete_message(&self, room_id: &str, msg_id: &str) -> Result<(), RestError> {
        self.call_json(
            Method::POST,
            "chat.delete",
            &["chat.delete"],
            vec![],
            Some(json!({"roomId": room_id, "msgId": msg_id})),
            Retry::Once,
        )
        .await
        .map(|_| ())
    }

    /// `POST /api/v1/chat.react`: add (`Some(true)`), remove (`Some(false)`) or toggle (`None`).
    pub async fn react(
        &self,
        msg_id: &str,
        emoji: &str,
        should_react: Option<bool>,
    ) -> Result<(), RestError> {
        let mut body = json!({"messageId": msg_id, "emoji": emoji});
        let retry = match should_react {
            Some(b) => {
                body["shouldReact"] = json!(b);
                Retry::Idempotent
            }
            None => Retry::Once,
        };
        self.call_json(
            Method::POST,
            "chat.react",
            &["chat.react"],
            vec![],
            Some(body),
            retry,
        )
        .await
        .map(|_| ())
    }

    /// `POST /api/v1/subscriptions.read`: mark room `rid` read for the caller (its unread
    /// count and alert cleared); `read_threads` also clears its threads' unread marks.
    pub async fn mark_read(&self, rid: &str, read_threads: Option<bool>) -> Result<(), RestError> {
        let mut body = json!({"rid": rid});
        if let Some(b) = read_threads {
            body["readThreads"] = json!(b);
        }
        self.call_json(
            Method::POST,
            "subscriptions.read",
            &["subscriptions.read"],
            vec![],
            Some(body),
            Retry::Idempotent,
        )
        .await
        .map(|_| ())
    }

    /// `GET /api/v1/chat.getMessage?msgId=`.
    pub async fn get_message(&self, msg_id: &str) -> Result<Value, RestError> {
        let body = self
            .call_json(
                Method::GET,
                "chat.getMessage",
                &["chat.getMessage"],
                q(&[("msgId", msg_id)]),
                None,
                Retry::Idempotent,
            )
            .await?;
        take("GET /api/v1/chat.getMessage", body, "message")
    }

    /// `GET /api/v1/chat.search?roomId=&searchText=&count=`: the room's messages whose text
    /// matches, newest first, at most `count`.
    pub async fn search_messages(
        &self,
        room_id: &str,
        search_text: &str,
        count: u32,
    ) -> Result<Vec<Value>, RestError> {
        let count = count.to_string();
        let body = self
            .call_json(
                Method::GET,
                "chat.search",
                &["chat.search"],
                q(&[
                    ("roomId", room_id),
                    ("searchText", search_text),
                    ("count", &count),
                ]),
                None,
                Retry::Idempotent,
            )
            .await?;
        Ok(list(&body, "messages"))
    }

    /// `POST /api/v1/chat.pinMessage {messageId}` (`pin`) or `chat.unPinMessage` (`!pin`).
    pub async fn pin_message(&self, msg_id: &str, pin: bool) -> Result<(), RestError> {
        let endpoint = if pin {
            "chat.pinMessage"
        } else {
            "chat.unPinMessage"
        };
        self.call_json(
            Method::POST,
            endpoint,
            &[endpoint],
            vec![],
            Some(json!({ "messageId": msg_id })),
            Retry::Idempotent,
        )
        .await
        .map(|_| ())
    }

    /// `GET /api/v1/chat.syncMessages?roomId=&lastUpdate=` (ISO date).
    pub async fn sync_messages(
        &self,
        room_id: &str,
        last_update: &str,
    ) -> Result<SyncResult, RestError> {
        let body = self
            .call_json(
                Method::GET,
                "chat.syncMessages",
                &["chat.syncMessages"],
                q(&[("roomId", room_id), ("lastUpdate", last_update)]),
                None,
                Retry::Idempotent,
            )
            .await?;
        let r = body.get("result").unwrap_or(&body);
        Ok(SyncResult {
            updated: list(r, "updated"),
            deleted: list(r, "deleted"),
        })
    }

    /// `channels|groups|im.history` by room type (`c`, `p`, `d`): messages from `oldest` to
    /// `latest` (both inclusive, ISO dates), thread replies included, newest first skipping
    /// `offset`, at most `count`; returned oldest first. The server picks the newest `count`
    /// in the range, so callers page backwards by passing the oldest `ts` they got as the
    /// next `latest`. Bounds are inclusive because `ts` is not unique: an exclusive bound
    /// inside a millisecond shared by several messages skips the rest of them.
    pub async fn history(
        &self,
        room_type: &str,
        room_id: &str,
        oldest: Option<&str>,
        latest: Option<&str>,
        offset: usize,
        count: u32,
    ) -> Result<Vec<Value>, RestError> {
        let endpoint = match room_type {
            "c" => "channels.history",
            "p" => "groups.history",
            "d" => "im.history",
            other => {
                return Err(RestError::Invalid(format!(
                    "no history endpoint for room type {other:?}"
                )))
            }
        };
        let (count, offset) = (count.to_string(), offset.to_string());
        // Without `showThreadMessages` the server leaves out thread replies not also shown
        // in the room.
        let mut query = q(&[
            ("roomId", room_id),
            ("count", &count),
            ("showThreadMessages", "true"),
        ]);
        if offset != "0" {
            query.extend(q(&[("offset", &offset)]));
        }
        if let Some(oldest) = oldest {
            query.extend(q(&[("oldest", oldest)]));
        }
        if let Some(latest) = latest {
            query.extend(q(&[("latest", latest)]));
        }
        if oldest.is_some() || latest.is_some() {
            query.extend(q(&[("inclusive", "true")]));
        }
        let body = self
            .call_json(
                Method::GET,
                endpoint,
                &[endpoint],
                query,
                None,
                Retry::Idempotent,
            )
            .await?;
        let mut messages = list(&body, "messages");
        messages.reverse();
        Ok(messages)
    }

    /// `GET /api/v1/chat.getThreadMessages?tmid=`: the newest `count` replies of a thread,
    /// returned oldest first (the root is not among them; fetch it with [`Self::get_message`]).
    pub async fn thread_messages(&self, tmid: &str, count: u32) -> Result<Vec<Value>, RestError> {
        let endpoint = "chat.getThreadMessages";
        let count = count.to_string();
        let query = q(&[("tmid", tmid), ("count", &count), ("sort", "{\"ts\":-1}")]);
        let body = self
            .call_json(
                Method::GET,
                endpoint,
                &[endpoint],
                query,
                None,
                Retry::Idempotent,
            )
            .await?;
        let mut messages = list(&body, "messages");
        messages.reverse();
        Ok(messages)
    }

    /// `GET /api/v1/rooms.info?roomId=`; returns the room.
    pub async fn rooms_info(&self, room_id: &str) -> Result<Value, RestError> {
        self.rooms_info_by("roomId", room_id).await
    }

    /// `GET /api/v1/rooms.info?roomName=`; returns the room.
    pub async fn rooms_info_by_name(&self, name: &str) -> Result<Value, RestError> {
        self.rooms_info_by("roomName", name.trim_start_matches('#'))
            .await
    }

    async fn rooms_info_by(&self, key: &str, value: &str) -> Result<Value, RestError> {
        let body = self
            .call_json(
                Method::GET,
                "rooms.info",
                &["rooms.info"],
                q(&[(key, value)]),
                None,
                Retry::Idempotent,
            )
            .await?;
        take("GET /api/v1/rooms.info", body, "room")
    }

    /// `GET /api/v1/rooms.get[?updatedSince=ISO]`.
    pub async fn rooms_get(&self, updated_since: Option<&str>) -> Result<Updates, RestError> {
        self.updates("rooms.get", updated_since).await
    }

    /// `GET /api/v1/subscriptions.get[?updatedSince=ISO]`.
    pub async fn subscriptions_get(
        &self,
        updated_since: Option<&str>,
    ) -> Result<Updates, RestError> {
        self.updates("subscriptions.get", updated_since).await
    }

    async fn updates(&self, ep: &str, updated_since: Option<&str>) -> Result<Updates, RestError> {
        let query = updated_since
            .map(|s| q(&[("updatedSince", s)]))
            .unwrap_or_default();
        let body = self
            .call_json(Method::GET, ep, &[ep], query, None, Retry::Idempotent)
            .await?;
        Ok(Updates {
            update: list(&body, "update"),
            remove: list(&body, "remove"),
        })
    }

    /// `GET /api/v1/subscriptions.getOne?roomId=`; `None` when the bot has no subscription.
    pub async fn subscriptions_get_one(&self, rid: &str) -> Result<Option<Value>, RestError> {
        let body = self
            .call_json(
                Method::GET,
                "subscriptions.getOne",
                &["subscriptions.getOne"],
                q(&[("roomId", rid)]),
                None,
                Retry::Idempotent,
            )
            .await?;
        Ok(body.get("subscription").filter(|v| !v.is_null()).cloned())
    }

    /// `GET /api/v1/users.info?userId=`; returns the user.
    pub async fn users_info_by_id(&self, user_id: &str) -> Result<Value, RestError> {
        self.users_info("userId", user_id).await
    }

    /// `GET /api/v1/users.info?username=`; returns the user.
    pub async fn users_info_by_username(&self, username: &str) -> Result<Value, RestError> {
        self.users_info("username", username).await
    }

    async fn users_info(&self, key: &str, value: &str) -> Result<Value, RestError> {
        let body = self
            .call_json(
                Method::GET,
                "users.info",
                &["users.info"],
                q(&[(key, value)]),
                None,
                Retry::Idempotent,
            )
            .await?;
        take("GET /api/v1/users.info", body, "user")
    }

    /// `POST /api/v1/im.create {"username"}` (a username, not an id); returns the DM room
    /// (its id is `rid` / `_id`). Idempotent: an existing DM is returned.
    pub async fn im_create(&self, username: &str) -> Result<Value, RestError> {
        let username = username.trim_start_matches('@');
        let body = self
            .call_json(
                Method::POST,
                "im.create",
                &["im.create"],
                vec![],
                Some(json!({ "username": username })),
                Retry::Idempotent,
            )
            .await?;
        take("POST /api/v1/im.create", body, "room")
    }

    /// `GET /api/v1/im.list`, all pages (100 per page, at most 50 pages).
    pub async fn im_list(&self) -> Result<Vec<Value>, RestError> {
        let mut all = Vec::new();
        for page in 0..50u32 {
            let offset = (page * 100).to_string();
            let body = self
                .call_json(
                    Method::GET,
                    "im.list",
                    &["im.list"],
                    q(&[("offset", &offset), ("count", "100")]),
                    None,
                    Retry::Idempotent,
                )
                .await?;
            let ims = list(&body, "ims");
            let n = ims.len();
            all.extend(ims);
            let total = body.get("total").and_then(Value::as_u64).unwrap_or(0);
            if n == 0 || all.len() as u64 >= total {
                break;
            }
        }
        Ok(all)
    }
}
