//! The rule language on arbitrary text, both as one expression and as a
//! definitions file: errors are fine, panics are not (like Meilisearch's
//! filter fuzz target, it fails only on internal errors).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = bellwether_rules::parse(text);
    if let Err(diagnostics) = bellwether_rules::RuleSet::from_toml("fuzz.toml", text) {
        let _ = diagnostics.to_json();
    }
    let as_condition = format!(
        "[[segment]]\nname = \"fuzz\"\nsubject = \"contact\"\nwhen = '''{}'''\n",
        text.replace("'''", "")
    );
    let _ = bellwether_rules::RuleSet::from_toml("fuzz.toml", &as_condition);
});
