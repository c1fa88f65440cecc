//! REST under `/api` (ROCKETCHAT.md §4–§6), plus protected file downloads at `/file-upload`.
//!
//! Layout: [`envelope`] renders success and failure bodies per version profile, [`auth`]
//! extracts the caller and bodies, [`ratelimit`] is the per-IP/route/method limiter, and one
//! module per endpoint family. Handlers call the same [`crate::store::Store`] operations as
//! the DDP side, so both transports see one state; REST renders dates as ISO strings.

pub mod auth;
pub mod chat;
pub mod envelope;
pub mod files;
pub mod login;
pub mod misc;
pub mod ratelimit;
pub mod rooms;
pub mod users;
pub mod validate;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

pub use ratelimit::RateLimiter;

use crate::server::AppState;

/// The REST routes. The state decides which exist (`rooms.upload` only in 6.x/7.x) and feeds
/// the rate-limit and envelope middleware.
pub fn router(state: AppState) -> Router<AppState> {
    const V1: &str = "/api/v1";
    let r = |path: &str| format!("{V1}/{path}");
    let mut v1 = Router::new()
        .route(&r("login"), post(login::login))
        .route(&r("me"), get(login::me))
        .route(&r("logout"), post(login::logout).get(login::logout))
        .route(&r("chat.postMessage"), post(chat::post_message))
        .route(&r("chat.sendMessage"), post(chat::send_message))
        .route(&r("chat.update"), post(chat::update))
        .route(&r("chat.delete"), post(chat::delete))
        .route(&r("chat.react"), post(chat::react))
        .route(&r("chat.getMessage"), get(chat::get_message))
        .route(&r("chat.pinMessage"), post(chat::pin_message))
        .route(&r("chat.unPinMessage"), post(chat::unpin_message))
        .route(&r("chat.search"), get(chat::search))
        .route(&r("chat.getThreadMessages"), get(chat::get_thread_messages))
        .route(&r("chat.syncMessages"), get(chat::sync_messages))
        .route(&r("channels.history"), get(rooms::channels_history))
        .route(&r("groups.history"), get(rooms::groups_history))
        .route(&r("im.history"), get(rooms::im_history))
        .route(&r("dm.history"), get(rooms::im_history))
        .route(&r("channels.info"), get(rooms::channels_info))
        .route(&r("groups.info"), get(rooms::groups_info))
        .route(&r("rooms.info"), get(rooms::rooms_info))
        .route(&r("rooms.get"), get(rooms::rooms_get))
        .route(&r("im.create"), post(rooms::im_create))
        .route(&r("dm.create"), post(rooms::im_create))
        .route(&r("im.list"), get(rooms::im_list))
        .route(&r("dm.list"), get(rooms::im_list))
        .route(&r("subscriptions.get"), get(rooms::subscriptions_get))
        .route(
            &r("subscriptions.getOne"),
            get(rooms::subscriptions_get_one),
        )
        .route(&r("subscriptions.read"), post(rooms::subscriptions_read))
        .route(&r("channels.create"), post(rooms::channels_create))
        .route(&r("groups.create"), post(rooms::groups_create))
        .route(&r("channels.join"), post(rooms::channels_join))
        .route(&r("channels.leave"), post(rooms::channels_leave))
        .route(&r("channels.invite"), post(rooms::channels_invite))
        .route(&r("groups.invite"), post(rooms::groups_invite))
        .route(&r("users.info"), get(users::info))
        .route(&r("users.create"), post(users::create))
        .route(&r("users.register"), post(users::register_route))
        .route(
            &r("users.generatePersonalAccessToken"),
            post(users::generate_personal_access_token),
        )
        .route(&r("settings.public"), get(misc::settings_public))
        .route(&r("method.call/{*method}"), post(misc::call))
        .route(&r("method.callAnon/{*method}"), post(misc::call_anon))
        // Uploads are limited by FileUpload_MaxFileSize, checked while reading, not by axum.
        .route(
            &r("rooms.media/{rid}"),
            post(files::media).layer(DefaultBodyLimit::disable()),
        )
        .route(
            &r("rooms.mediaConfirm/{rid}/{file_id}"),
            post(files::media_confirm),
        );
    if state.store.profile.has_rooms_upload() {
        v1 = v1.route(
            &r("rooms.upload/{rid}"),
            post(files::upload).layer(DefaultBodyLimit::disable()),
        );
    }
    v1.route_layer(from_fn_with_state(state.clone(), ratelimit::limit))
        // Not under /api/v1: no REST rate limit.
        .route("/api/info", get(login::info))
        .route("/file-upload/{file_id}/{*name}", get(files::download))
        .fallback(misc::not_found)
        .method_not_allowed_fallback(misc::not_found)
        .layer(from_fn_with_state(state, envelope::finish))
}
