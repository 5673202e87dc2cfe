//! Progress bars for long commands (hidden when standard error is not a
//! terminal, as indicatif does).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `length` steps drawn with `template`.
pub(crate) fn bar(length: u64, template: &str) -> ProgressBar {
    styled(ProgressBar::new(length), template)
}

/// `bar` drawn with `template` (indicatif's default if it does not parse).
pub(crate) fn styled(bar: ProgressBar, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.with_style(style)
}
