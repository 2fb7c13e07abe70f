//! Serves the built dashboard (`web/dist`) when it exists, and a small built-in page otherwise,
//! so `/` always shows something useful.

use std::path::Path;

use axum::response::Html;
use axum::routing::{MethodRouter, get};

const BUILTIN_PAGE: &str = include_str!("index.html");

pub fn service(web_dir: &Path) -> MethodRouter {
    if web_dir.join("index.html").is_file() {
        let dir = tower_http::services::ServeDir::new(web_dir).fallback(
            tower_http::services::ServeFile::new(web_dir.join("index.html")),
        );
        axum::routing::get_service(dir)
    } else {
        get(|| async { Html(BUILTIN_PAGE) })
    }
}
