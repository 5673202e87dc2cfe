//! The dependency graph between definitions: cycle detection and the order
//! in which the engine evaluates them (dependencies first).

use std::collections::HashMap;
use std::sync::Arc;

use super::Compiler;
use crate::ast::Span;
use crate::check::{DefKind, Dep};
use crate::diagnostics::Problem;
use crate::ruleset::DefRef;
use crate::subject::SubjectKind;

pub(crate) struct Vertex {
    kind: DefKind,
    name: String,
    field: String,
    deps: Vec<Dep>,
}

impl Vertex {
    pub(crate) fn new(kind: DefKind, name: &str, field: String, deps: Vec<Dep>) -> Self {
        Vertex {
            kind,
            name: name.to_owned(),
            field,
            deps,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Open,
    Done,
}

struct Walk<'v> {
    vertices: &'v [Vertex],
    index: HashMap<(DefKind, &'v str), usize>,
    marks: Vec<Mark>,
    stack: Vec<usize>,
    order: Vec<usize>,
    cycles: Vec<Vec<usize>>,
}

impl Walk<'_> {
    fn visit(&mut self, at: usize) {
        self.marks[at] = Mark::Open;
        self.stack.push(at);
        for dep in &self.vertices[at].deps {
            let Some(&next) = self.index.get(&(dep.kind, dep.name.as_str())) else {
                continue;
            };
            match self.marks[next] {
                Mark::New => self.visit(next),
                Mark::Open => {
                    let start = self.stack.iter().position(|v| *v == next).unwrap_or(0);
                    self.cycles.push(self.stack[start..].to_vec());
                }
                Mark::Done => {}
            }
        }
        self.stack.pop();
        self.marks[at] = Mark::Done;
        self.order.push(at);
    }
}

/// Dependencies-first order; records an error for every cycle.
pub(crate) fn order(vertices: &[Vertex], compiler: &mut Compiler<'_>) -> Vec<DefRef> {
    let index = vertices
        .iter()
        .enumerate()
        .map(|(i, v)| ((v.kind, v.name.as_str()), i))
        .collect();
    let mut walk = Walk {
        vertices,
        index,
        marks: vec![Mark::New; vertices.len()],
        stack: Vec::new(),
        order: Vec::new(),
        cycles: Vec::new(),
    };
    for at in 0..vertices.len() {
        if walk.marks[at] == Mark::New {
            walk.visit(at);
        }
    }
    for cycle in &walk.cycles {
        let names: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|&v| format!("{} {}", vertices[v].kind.as_str(), vertices[v].name))
            .collect();
        let first = &vertices[cycle[0]];
        let problem = Problem::new(
            "cycle",
            format!(
                "definitions depend on each other in a cycle: {}",
                names.join(" → ")
            ),
            Span::default(),
        )
        .hint("a definition cannot depend, directly or not, on itself");
        compiler.whole(
            first.field.clone(),
            format!("{} {}", first.kind.as_str(), first.name),
            problem,
        );
    }
    walk.order
        .iter()
        .map(|&v| {
            let vertex = &vertices[v];
            let subject = subject_of(compiler, vertex.kind, &vertex.name);
            DefRef {
                kind: vertex.kind,
                name: Arc::from(vertex.name.as_str()),
                subject,
                depends_on: vertex
                    .deps
                    .iter()
                    .map(|dep| (dep.kind, Arc::from(dep.name.as_str())))
                    .collect(),
            }
        })
        .collect()
}

fn subject_of(compiler: &Compiler<'_>, kind: DefKind, name: &str) -> SubjectKind {
    let catalog = &compiler.catalog;
    match kind {
        DefKind::Score => catalog.scores.get(name).map(|s| s.subject),
        DefKind::Segment => catalog.segments.get(name).copied(),
        DefKind::Tier => catalog.tiers.get(name).map(|t| t.subject),
    }
    .unwrap_or_default()
}
