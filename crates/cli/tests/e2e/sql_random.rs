//! Random rule sets over random event streams: every engine returns eval's
//! rows (the differential harness of `sql.rs`). Each case is drawn from a
//! seed, so a failure names the seed that reproduces it.

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::sql::Case;

const SELECTORS: &[&str] = &[
    r#""A""#,
    r#""B""#,
    "page",
    "any",
    "screen",
    r#""A" where x >= 2"#,
    r#""B" where tag in ["p", "q"]"#,
    r#"page where path starts_with "/d""#,
    r#"any where tag = "p""#,
    r#""A" where x != 1"#,
];

const WINDOWS: &[&str] = &[
    "",
    ", last 2d",
    ", last 36h",
    ", between 3d and 1d ago",
    r#", within 1d of first("B")"#,
];

const START: i64 = 1_790_812_800_000; // 2026-10-01T00:00:00Z
const HOUR: i64 = 3_600_000;

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or("any")
}

/// One random condition over a contact or an account.
fn condition(rng: &mut ChaCha8Rng, contact: bool) -> String {
    let (s, t) = (pick(rng, SELECTORS), pick(rng, SELECTORS));
    let w = pick(rng, WINDOWS);
    let k = rng.gen_range(1..4);
    let agg = pick(rng, &["sum", "avg", "min", "max"]);
    let within = pick(rng, &["", " within 1d", " within 3h"]);
    let on = pick(rng, &["", " on tag"]);
    let mut forms = vec![
        format!("count({s}{w}) >= {k}"),
        format!("exists({s}{w})"),
        format!("days_since({s}) >= {}.5", k - 1),
        format!("active_days({}) >= {k}", &pick(rng, &WINDOWS[1..])[2..]),
        format!("{agg}({s}, x{w}) > {k}"),
        format!("distinct({s}, tag{w}) >= {k}"),
        format!(r#"last({s}{w}).tag = "p""#),
        format!("first({s}{w}).x > 1"),
        format!("last({s}).time - first({t}).time >= 1d"),
        format!("sequence({s} then {t}{within})"),
        format!("each(last {k} {s} followed_by {t}{on}{within})"),
        "account.size >= 10".to_owned(),
    ];
    if contact {
        forms.push(r#"trait.plan = "pro""#.to_owned());
        forms.push("trait.seats > past(trait.seats, 1d)".to_owned());
    } else {
        forms.push(r#"count(contacts where in_segment("c0")) >= 1"#.to_owned());
        forms.push(r#"count(contacts where score("points") >= 2) >= 2"#.to_owned());
    }
    let first = forms.choose(rng).cloned().unwrap_or_default();
    match rng.gen_range(0..4) {
        0 => format!("not ({first})"),
        1 => format!(
            "{first} and {}",
            forms.choose(rng).cloned().unwrap_or_default()
        ),
        2 => format!(
            "{first} or {}",
            forms.choose(rng).cloned().unwrap_or_default()
        ),
        _ => first,
    }
}

/// Definitions: a contact score, an account roll-up, segments, a tier.
fn definitions(rng: &mut ChaCha8Rng) -> String {
    let half_life = pick(rng, &["", r#"half_life = "2d""#]);
    let mut rules = Vec::new();
    for _ in 0..rng.gen_range(1..4) {
        let points = pick(rng, &["-3", "1", "2", "5"]);
        let cap = pick(
            rng,
            &[
                "",
                r#", cap = "3 per day""#,
                r#", cap = "4 per week""#,
                r#", cap = "5 per 6h""#,
                r#", cap = "6""#,
            ],
        );
        let on = pick(rng, SELECTORS).replace('\'', "");
        rules.push(format!("{{ on = '{on}', points = {points}{cap} }}"));
    }
    if rng.gen_bool(0.5) {
        rules.push(format!(
            "{{ while = '{}', points = 4 }}",
            condition(rng, true)
        ));
    }
    let agg = pick(rng, &["sum", "avg", "max", "top 2"]);
    let mut text = format!(
        "[[score]]\nname = \"points\"\n{half_life}\nrules = [\n  {}\n]\n\n[[score]]\nname = \"team\"\nsubject = \"account\"\n{half_life}\nrules = [ {{ rollup = \"points\", agg = \"{agg}\" }} ]\n",
        rules.join(",\n  ")
    );
    for index in 0..3 {
        text.push_str(&format!(
            "\n[[segment]]\nname = \"c{index}\"\nwhen = '{}'\n",
            condition(rng, true)
        ));
    }
    for index in 0..2 {
        text.push_str(&format!(
            "\n[[segment]]\nname = \"a{index}\"\nsubject = \"account\"\nwhen = '{}'\n",
            condition(rng, false)
        ));
    }
    text.push_str(&format!(
        "\n[[tier]]\nname = \"band\"\nlevels = [\n  {{ name = \"top\", when = 'score(\"points\") >= 4 and in_segment(\"c1\")' }},\n  {{ name = \"mid\", when = '{}' }},\n]\n",
        condition(rng, true)
    ));
    text
}

fn time(ms: i64) -> String {
    let seconds = ms / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Days since 2026-10-01 stay within October.
    let day = 1 + days - (START / 1000) / 86_400;
    format!(
        "2026-10-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        ms % 1000
    )
}

/// Identify and group calls, then behavior events; many share a millisecond.
fn messages(rng: &mut ChaCha8Rng) -> String {
    let mut lines = Vec::new();
    let mut id = 0;
    let mut push = |line: String| {
        id += 1;
        lines.push(line.replace("MID", &format!("m{id}")));
    };
    let users = ["u0", "u1", "u2", "u3"];
    for (index, user) in users.iter().enumerate() {
        let group = ["g0", "g1"][index % 2];
        let size = rng.gen_range(5..30);
        push(format!(
            r#"{{"type":"group","userId":"{user}","groupId":"{group}","traits":{{"size":{size}}},"messageId":"MID","timestamp":"{}"}}"#,
            time(START)
        ));
        for _ in 0..rng.gen_range(1..3) {
            let at = START + rng.gen_range(0..120) * HOUR;
            let plan = pick(rng, &["free", "pro"]);
            let seats = rng.gen_range(1..5);
            push(format!(
                r#"{{"type":"identify","userId":"{user}","traits":{{"plan":"{plan}","seats":{seats}}},"messageId":"MID","timestamp":"{}"}}"#,
                time(at)
            ));
        }
    }
    for _ in 0..rng.gen_range(15..45) {
        let who = pick(
            rng,
            &[
                "\"userId\":\"u0\"",
                "\"userId\":\"u1\"",
                "\"userId\":\"u2\"",
                "\"userId\":\"u3\"",
                "\"anonymousId\":\"a0\"",
            ],
        );
        let at = START
            + rng.gen_range(0..40) * 3 * HOUR
            + pick(rng, &["0", "0", "1"]).parse::<i64>().unwrap_or(0);
        let x = pick(rng, &["1", "2", "3", "\"2\"", "2.5"]);
        let tag = pick(rng, &["p", "q", "r"]);
        let kind = pick(rng, &["A", "A", "B", "B", "C", "page", "screen"]);
        let properties = format!(
            r#""properties":{{"x":{x},"tag":"{tag}","path":"{}"}}"#,
            pick(rng, &["/d/1", "/e"])
        );
        let head = match kind {
            "page" | "screen" => format!(
                r#""type":"{kind}","name":"{}""#,
                pick(rng, &["Docs", "Home"])
            ),
            name => format!(r#""type":"track","event":"{name}""#),
        };
        push(format!(
            r#"{{{head},{who},{properties},"messageId":"MID","timestamp":"{}"}}"#,
            time(at)
        ));
    }
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 5,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_rule_sets_over_random_streams_agree_in_every_engine(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let definitions = definitions(&mut rng);
        let messages = messages(&mut rng);
        let case = Case::new(&definitions, &messages);
        for at in ["2026-10-06T00:00:00Z", "2026-10-03T12:00:00.001Z"] {
            case.assert_engines_agree(at);
        }
    }
}
