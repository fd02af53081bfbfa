//! Drawing the graph: Graphviz DOT, Mermaid and JSON, with shapes and colours by node kind,
//! edge labels by action, and a legend.

use std::fmt::Write as _;

use std::collections::{BTreeSet, HashMap};

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::{AccessGraph, Edge, EdgeKind, MAX_DRAWN_EDGES, Node, NodeKind, Outcome, View};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
    /// JSON: `{"version", "nodes", "edges"}`.
    Json,
}

const KINDS: [NodeKind; 12] = [
    NodeKind::Account,
    NodeKind::Root,
    NodeKind::User,
    NodeKind::Group,
    NodeKind::Role,
    NodeKind::Service,
    NodeKind::AnyPrincipal,
    NodeKind::AccountPrincipals,
    NodeKind::Key,
    NodeKind::Alias,
    NodeKind::Policy,
    NodeKind::Grant,
];

/// DOT shape and fill colour of a kind.
fn dot_style(kind: NodeKind) -> (&'static str, &'static str) {
    match kind {
        NodeKind::Account => ("house", "#e0e0e0"),
        NodeKind::Root => ("house", "#ffd27f"),
        NodeKind::User => ("ellipse", "#a6cee3"),
        NodeKind::Group => ("folder", "#b2df8a"),
        NodeKind::Role => ("box", "#1f78b4"),
        NodeKind::Service => ("hexagon", "#cab2d6"),
        NodeKind::AnyPrincipal => ("doubleoctagon", "#e31a1c"),
        NodeKind::AccountPrincipals => ("octagon", "#fb9a99"),
        NodeKind::Key => ("cylinder", "#ffff99"),
        NodeKind::Alias => ("cds", "#ffffcc"),
        NodeKind::Policy => ("note", "#ffffff"),
        NodeKind::Grant => ("component", "#fdbf6f"),
    }
}

fn edge_style(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Escalates | EdgeKind::Empowers => "color=\"#e31a1c\", style=bold",
        EdgeKind::ActsAs => "color=\"#1f78b4\", style=bold",
        EdgeKind::MemberOf | EdgeKind::HasPolicy | EdgeKind::AliasOf => "style=dashed",
        EdgeKind::RootDelegation
        | EdgeKind::KeyPolicyAllows
        | EdgeKind::HasGrant
        | EdgeKind::GrantTo => "color=\"#33a02c\"",
    }
}

/// DOT strings and Mermaid labels go through the report's escaping layer: a line break or a
/// quote in a name cannot end the label or start a statement.
fn dot_escape(s: &str) -> String {
    crate::report::escape::dot(s)
}

fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        let head: String = s.chars().take(57).collect();
        format!("{head}…")
    } else {
        s.to_owned()
    }
}

/// Renders the nodes and edges.
pub(crate) fn render(
    nodes: &[Node],
    edges: &[(usize, usize, Edge)],
    format: ExportFormat,
) -> String {
    match format {
        ExportFormat::Dot => dot(nodes, edges),
        ExportFormat::Mermaid => mermaid(nodes, edges),
        ExportFormat::Json => json(nodes, edges),
    }
}

fn dot(nodes: &[Node], edges: &[(usize, usize, Edge)]) -> String {
    let mut s = String::from(
        "digraph kmsaudit {\n  rankdir=LR;\n  node [style=filled, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n",
    );
    for (i, n) in nodes.iter().enumerate() {
        let (shape, fill) = dot_style(n.kind);
        let _ = writeln!(
            s,
            "  n{i} [label=\"{}\", tooltip=\"{}\", shape={shape}, fillcolor=\"{fill}\"];",
            dot_escape(&clip(&n.label)),
            dot_escape(&n.id)
        );
    }
    for (a, b, e) in edges {
        let _ = writeln!(
            s,
            "  n{a} -> n{b} [label=\"{}\", {}];",
            dot_escape(&clip(&e.label)),
            edge_style(e.kind)
        );
    }
    s.push_str("  subgraph cluster_legend {\n    label=\"Legend\";\n    style=dashed;\n");
    for k in KINDS {
        let (shape, fill) = dot_style(k);
        let _ = writeln!(
            s,
            "    legend_{} [label=\"{}\", shape={shape}, fillcolor=\"{fill}\"];",
            k.as_str().replace('-', "_"),
            k.as_str()
        );
    }
    s.push_str("    legend_escalation_from [label=\"\", shape=point];\n    legend_escalation_to [label=\"escalation move\", shape=plaintext, style=\"\"];\n    legend_escalation_from -> legend_escalation_to [color=\"#e31a1c\", style=bold];\n  }\n}\n");
    s
}

fn mermaid_escape(s: &str) -> String {
    crate::report::escape::mermaid(s)
}

fn mermaid(nodes: &[Node], edges: &[(usize, usize, Edge)]) -> String {
    let mut s = String::from("flowchart LR\n");
    for (i, n) in nodes.iter().enumerate() {
        let label = mermaid_escape(&clip(&n.label));
        let shape = match n.kind {
            NodeKind::User | NodeKind::Root => format!("n{i}([\"{label}\"])"),
            NodeKind::Role => format!("n{i}[\"{label}\"]"),
            NodeKind::Group => format!("n{i}[/\"{label}\"/]"),
            NodeKind::Service => format!("n{i}{{{{\"{label}\"}}}}"),
            NodeKind::AnyPrincipal | NodeKind::AccountPrincipals => {
                format!("n{i}{{\"{label}\"}}")
            }
            NodeKind::Key => format!("n{i}[(\"{label}\")]"),
            NodeKind::Alias => format!("n{i}>\"{label}\"]"),
            NodeKind::Policy | NodeKind::Grant | NodeKind::Account => {
                format!("n{i}[[\"{label}\"]]")
            }
        };
        let _ = writeln!(s, "  {shape}:::{}", n.kind.as_str().replace('-', "_"));
    }
    for (a, b, e) in edges {
        let arrow = match e.kind {
            EdgeKind::Escalates | EdgeKind::Empowers | EdgeKind::ActsAs => "==>",
            EdgeKind::MemberOf | EdgeKind::HasPolicy | EdgeKind::AliasOf => "-.->",
            _ => "-->",
        };
        let label = mermaid_escape(&clip(&e.label));
        if label.is_empty() {
            let _ = writeln!(s, "  n{a} {arrow} n{b}");
        } else {
            let _ = writeln!(s, "  n{a} {arrow}|\"{label}\"| n{b}");
        }
    }
    s.push_str("  subgraph Legend\n");
    for k in KINDS {
        let _ = writeln!(
            s,
            "    legend_{0}[\"{1}\"]:::{0}",
            k.as_str().replace('-', "_"),
            k.as_str()
        );
    }
    s.push_str("  end\n");
    for k in KINDS {
        let (_, fill) = dot_style(k);
        let _ = writeln!(
            s,
            "  classDef {} fill:{fill},stroke:#333",
            k.as_str().replace('-', "_")
        );
    }
    s
}

fn json(nodes: &[Node], edges: &[(usize, usize, Edge)]) -> String {
    let nodes: Vec<serde_json::Value> = nodes
        .iter()
        .map(|n| serde_json::json!({"id": n.id, "kind": n.kind.as_str(), "label": n.label}))
        .collect();
    let edges: Vec<serde_json::Value> = edges
        .iter()
        .map(|(a, b, e)| {
            serde_json::json!({
                "from": a, "to": b, "kind": e.kind.as_str(), "label": e.label,
                "via": e.step.as_ref().map(|s| s.via.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let v = serde_json::json!({"version": 1, "nodes": nodes, "edges": edges});
    let mut out = serde_json::to_string_pretty(&v).unwrap_or_default();
    out.push('\n');
    out
}

impl AccessGraph<'_> {
    /// The nodes and edges (of one key's neighbourhood when `key` is given), sorted.
    pub(crate) fn export_view(&mut self, key: Option<&str>) -> Result<View, String> {
        self.build_moves();
        // Escalation edges to keys: who can create grants on or rewrite each key.
        let mut add = Vec::new();
        for ki in 0..self.keys.len() {
            for si in 0..self.subjects.len() {
                for (action, label) in [
                    (&self.create_grant, "kms:CreateGrant"),
                    (&self.put_key_policy, "kms:PutKeyPolicy"),
                ] {
                    let d = self.direct(si, ki, action);
                    let label = match d.outcome {
                        Outcome::Denied => continue,
                        Outcome::Allow => label.to_owned(),
                        Outcome::Conditional(_) => format!("{label} (conditional)"),
                        Outcome::Undetermined(_) => format!("{label} (undetermined)"),
                    };
                    if let (Some(s), Some(k)) = (self.subjects.get(si), self.keys.get(ki)) {
                        add.push((s.node, k.node, label));
                    }
                }
            }
        }
        for (from, to, label) in add {
            self.edge(from, to, EdgeKind::Escalates, &label);
        }
        let keep: Option<BTreeSet<NodeIndex>> = match key {
            None => None,
            Some(k) => {
                let ki = self.key_index(k)?;
                let start = self.keys.get(ki).map(|k| k.node).ok_or("no such key")?;
                // The key's neighbourhood: everything within two hops either way.
                let mut seen = BTreeSet::from([start]);
                let mut frontier = vec![start];
                for _ in 0..2 {
                    let mut next = Vec::new();
                    for n in frontier {
                        for m in self.graph.neighbors_undirected(n) {
                            if seen.insert(m) {
                                next.push(m);
                            }
                        }
                    }
                    frontier = next;
                }
                Some(seen)
            }
        };
        let mut idx: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|n| keep.as_ref().is_none_or(|k| k.contains(n)))
            .collect();
        idx.sort_by(|a, b| {
            (self.graph[*a].kind, &self.graph[*a].id)
                .cmp(&(self.graph[*b].kind, &self.graph[*b].id))
        });
        let pos: HashMap<NodeIndex, usize> = idx.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let nodes: Vec<Node> = idx.iter().map(|n| self.graph[*n].clone()).collect();
        let mut edges: Vec<(usize, usize, Edge)> = self
            .graph
            .edge_references()
            .filter_map(|e| {
                Some((
                    *pos.get(&e.source())?,
                    *pos.get(&e.target())?,
                    e.weight().clone(),
                ))
            })
            .collect();
        edges.sort_by(|a, b| {
            (a.0, a.1, a.2.kind, &a.2.label).cmp(&(b.0, b.1, b.2.kind, &b.2.label))
        });
        // A thousand principals that may all act as one another are a million edges: tens of
        // megabytes no reader can use. The drawing is cut, and a note says so.
        if edges.len() > MAX_DRAWN_EDGES {
            self.notes.borrow_mut().insert(format!(
                "the graph has {} edges: only the first {MAX_DRAWN_EDGES} (by source, then target) are drawn; give `--key` to draw one key's neighbourhood, or use `who-can`, `what-can` and `matrix`",
                edges.len()
            ));
            edges.truncate(MAX_DRAWN_EDGES);
        }
        Ok((nodes, edges))
    }

    /// Renders the graph (or one key's neighbourhood).
    pub(crate) fn export(
        &mut self,
        key: Option<&str>,
        format: ExportFormat,
    ) -> Result<String, String> {
        let (nodes, edges) = self.export_view(key)?;
        Ok(render(&nodes, &edges, format))
    }
}
