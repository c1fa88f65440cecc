//! The chat view at `GET /view`: one static page (`view.html`, embedded) that is a Rocket.Chat
//! client of this simulator, so a person can watch a bot answer as in a Rocket.Chat app. It logs
//! in through REST, follows its rooms over the DDP websocket (messages, edits, reactions,
//! deletions, typing) and posts with `chat.sendMessage`; `/view?as=alice` (or `bob`) logs in as
//! that seed user at once. Nothing here is Rocket.Chat's: the page only uses the routes a real
//! client uses.

use axum::http::header;
use axum::response::IntoResponse;

/// The page.
pub const PAGE: &str = include_str!("view.html");

/// The path the page is served at.
pub const PATH: &str = "/view";

/// `GET /view`.
pub async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
}
