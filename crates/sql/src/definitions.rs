//! One CTE per definition, in dependency order: `score_<name>(id, value)`,
//! `segment_<name>(id, member)`, `tier_<name>(id, level)`, each with one
//! row per subject of its kind.

use bellwether_rules::inspect::{CapSpec, RollupAgg, ScoreRule, ScoreSpec};
use bellwether_rules::ir::Sel;
use bellwether_rules::{DefKind, SubjectKind};

use crate::builder::{event_subject, Builder, Frame};
use crate::error::SqlError;
use crate::expr::Ctx;

impl Builder<'_> {
    pub(crate) fn segment(&mut self, name: &str) -> Result<(), SqlError> {
        let Some((subject, node)) = self.rules.segment_condition(name) else {
            return Ok(());
        };
        self.start(format!("segment {name}"), format!("segment_{name}"));
        let mut frame = Frame::new(subject);
        let member = self.condition(node, &mut Ctx::Subject(&mut frame))?;
        let body = format!(
            "SELECT s.id AS id, {member} AS member\nFROM {}",
            frame.from()
        );
        self.add(
            format!("segment_{name}"),
            format!("segment {name} ({}): member or not.", subject.as_str()),
            body,
        );
        Ok(())
    }

    pub(crate) fn tier(&mut self, name: &str) -> Result<(), SqlError> {
        let Some(spec) = self.rules.tier_spec(name) else {
            return Ok(());
        };
        self.start(format!("tier {name}"), format!("tier_{name}"));
        let mut frame = Frame::new(spec.subject);
        let mut arms = Vec::new();
        for (level, node) in &spec.levels {
            let holds = self.condition(node, &mut Ctx::Subject(&mut frame))?;
            arms.push(format!("WHEN {holds} THEN {}", self.dialect.string(level)));
        }
        let level = if arms.is_empty() {
            format!("CAST(NULL AS {})", self.dialect.text_type())
        } else {
            format!("CASE\n  {}\nEND", arms.join("\n  "))
        };
        let body = format!("SELECT s.id AS id, {level} AS level\nFROM {}", frame.from());
        self.add(
            format!("tier_{name}"),
            format!(
                "tier {name} ({}): the first level whose condition holds.",
                spec.subject.as_str()
            ),
            body,
        );
        Ok(())
    }

    pub(crate) fn score(&mut self, name: &str) -> Result<(), SqlError> {
        let Some(spec) = self.rules.score_spec(name) else {
            return Ok(());
        };
        self.start(format!("score {name}"), format!("score_{name}"));
        let d = self.dialect;
        let mut frame = Frame::new(spec.subject);
        let mut terms = Vec::new();
        for rule in &spec.rules {
            terms.push(self.score_term(rule, &spec, &mut frame)?);
        }
        let value = if terms.is_empty() {
            d.float(0.0)
        } else {
            terms.join("\n  + ")
        };
        let decay = match spec.half_life {
            Some(h) => format!(", half-life {}", bellwether_rules::format_duration(h)),
            None => String::new(),
        };
        self.add(
            format!("score_{name}"),
            format!(
                "score {name} ({}{decay}): the sum of its rules.",
                spec.subject.as_str()
            ),
            format!("SELECT s.id AS id, {value} AS value\nFROM {}", frame.from()),
        );
        Ok(())
    }

    /// What one rule adds to the score, over the score's frame.
    fn score_term(
        &mut self,
        rule: &ScoreRule<'_>,
        spec: &ScoreSpec<'_>,
        frame: &mut Frame,
    ) -> Result<String, SqlError> {
        let d = self.dialect;
        let zero = d.float(0.0);
        let cte = match rule {
            ScoreRule::Event {
                selector,
                points,
                cap,
            } => self.event_points(spec.subject, selector, *points, *cap, spec.half_life)?,
            ScoreRule::Rollup { score, agg } => self.rollup(score, *agg),
            ScoreRule::While { condition, points } => {
                let holds = self.condition(condition, &mut Ctx::Subject(frame))?;
                return Ok(format!(
                    "CASE WHEN {holds} THEN {} ELSE {zero} END",
                    d.float(*points)
                ));
            }
        };
        Ok(format!("coalesce({}.v, {zero})", frame.join(&cte, false)))
    }

    /// An event rule: points per matching event, capped per period in
    /// timeline order (the k-th event of a period earns what is left of the
    /// cap, at most its points), decayed from the event's time.
    fn event_points(
        &mut self,
        kind: SubjectKind,
        sel: &Sel,
        points: f64,
        cap: Option<CapSpec>,
        half_life: Option<i64>,
    ) -> Result<String, SqlError> {
        let d = self.dialect;
        let id = event_subject(kind);
        let (joins, matches) = self.selects(kind, sel, "e")?;
        let earned = match cap {
            None => d.float(points),
            Some(cap) => {
                let magnitude = points.abs();
                let period = match cap.period {
                    Some((length, offset)) => {
                        d.div_floor(&format!("e.ts + {}", d.int(offset)), length)
                    }
                    None => "0".to_owned(),
                };
                let rank = format!(
                    "row_number() OVER (PARTITION BY e.{id}, {period} ORDER BY e.ts, e.seq)"
                );
                format!(
                    "{} * least({}, greatest({} - {} * ({} - 1), {}))",
                    d.float(points.signum()),
                    d.float(magnitude),
                    d.float(cap.amount),
                    d.float(magnitude),
                    d.to_float(&rank),
                    d.float(0.0)
                )
            }
        };
        let decay = match half_life {
            Some(h) => format!(
                " * {}",
                d.exp2(&format!(
                    "-{} / {}",
                    d.to_float(&format!("{} - ts", self.now)),
                    d.float(h as f64)
                ))
            ),
            None => String::new(),
        };
        let body = format!(
            "SELECT id, sum(earned{decay}) AS v FROM (\n  SELECT e.{id} AS id, e.ts, {earned} AS earned\n  FROM events e{joins}\n  WHERE {matches}\n) points\nGROUP BY id"
        );
        Ok(self.helper("points", "Event points per subject.".into(), body))
    }

    /// `{ rollup = <score>, agg }`: the account's contacts' values at T.
    fn rollup(&mut self, score: &str, agg: RollupAgg) -> String {
        let from = format!(
            "FROM contacts c\nJOIN score_{score} sc ON sc.id = c.id\nWHERE c.account_id IS NOT NULL"
        );
        let body = match agg {
            RollupAgg::Sum => {
                format!("SELECT c.account_id AS id, sum(sc.value) AS v\n{from}\nGROUP BY c.account_id")
            }
            RollupAgg::Avg => {
                format!("SELECT c.account_id AS id, avg(sc.value) AS v\n{from}\nGROUP BY c.account_id")
            }
            RollupAgg::Top(n) => format!(
                "SELECT id, sum(value) AS v FROM (\n  SELECT c.account_id AS id, sc.value AS value,\n         row_number() OVER (PARTITION BY c.account_id ORDER BY sc.value DESC) AS rn\n  {}\n) ranked\nWHERE rn <= {n}\nGROUP BY id",
                from.replace('\n', "\n  ")
            ),
        };
        self.helper("rollup", format!("The contacts' {score}, rolled up."), body)
    }

    /// Every definition, dependencies first.
    pub(crate) fn definitions(&mut self) -> Result<(), SqlError> {
        let rules = self.rules;
        for def in rules.order() {
            match def.kind {
                DefKind::Score => self.score(&def.name)?,
                DefKind::Segment => self.segment(&def.name)?,
                DefKind::Tier => self.tier(&def.name)?,
            }
        }
        Ok(())
    }
}
