//! Drawing the graph: Graphviz DOT, Mermaid and JSON, with shapes and colours by node kind,
//! edge labels by action, and a legend.

use std::fmt::Write as _;

use super::{Edge, EdgeKind, Node, NodeKind};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
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
