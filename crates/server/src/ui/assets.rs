//! The stylesheet and the small script, embedded in the binary.

use axum::http::header;
use axum::response::IntoResponse;

pub(crate) const CSS_PATH: &str = "/ui/assets/app.css";
pub(crate) const JS_PATH: &str = "/ui/assets/app.js";
/// The editor's visual builder, loaded by the editor page only.
pub(crate) const BUILDER_JS_PATH: &str = "/ui/assets/builder.js";

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");
const BUILDER_JS: &str = include_str!("assets/builder.js");
const CACHE: &str = "public, max-age=300";

pub(crate) async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        CSS,
    )
}

pub(crate) async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        JS,
    )
}

pub(crate) async fn builder_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        BUILDER_JS,
    )
}
