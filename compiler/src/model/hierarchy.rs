//! Dotted hierarchies: tags (`PII.SSN` under `PII`) and purposes (`Research.Marketing`).
//!
//! A node keeps its own segment and its parent, never its whole path, and the index is keyed by
//! parent, then segment: declaring a path of `k` segments costs O(k) time and memory (a node that
//! kept its path made a 40,000-segment tag cost gigabytes). [`Hierarchy::path`] spells a node's
//! path when a message or an editor needs it.

use crate::source_map::Loc;
use std::collections::HashMap;

pub type NodeId = usize;

#[derive(Clone, Debug)]
pub struct HNode {
    /// The last segment of the path (`SSN` for `PII.SSN`).
    pub name: String,
    pub parent: Option<NodeId>,
    /// 1 for a root (`PII`), 2 for `PII.SSN`.
    pub depth: u32,
    /// Where it was declared (the first declaration naming it, possibly as a prefix).
    pub loc: Loc,
    /// Declared by its own name (not only as the prefix of a longer path).
    pub explicit: bool,
    pub sensitive: bool,
    pub description: Option<String>,
    pub doc: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Hierarchy {
    pub nodes: Vec<HNode>,
    /// Segment to node, for the roots: a lookup by `&str` segment allocates nothing (tags are
    /// resolved once per column that carries one).
    roots: HashMap<String, NodeId>,
    /// Segment to node, for the children of each node (`children[parent]`, one entry per node,
    /// empty maps allocate nothing).
    children: Vec<HashMap<String, NodeId>>,
}

impl Hierarchy {
    /// The node of a dotted path (`PII.SSN`).
    pub fn get(&self, path: &str) -> Option<NodeId> {
        let mut node = None;
        for seg in path.split('.') {
            let map = match node {
                None => &self.roots,
                Some(n) => self.children.get(n)?,
            };
            node = Some(*map.get(seg)?);
        }
        node
    }

    /// The node's whole dotted path (O(length of the path)).
    pub fn path(&self, node: NodeId) -> String {
        let mut segments = Vec::new();
        let mut at = Some(node);
        while let Some(n) = at.and_then(|n| self.nodes.get(n)) {
            segments.push(n.name.as_str());
            at = n.parent;
        }
        segments.reverse();
        segments.join(".")
    }

    /// Declares `path` and its prefixes; returns the node and whether it already existed as an
    /// explicit declaration (a duplicate).
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn declare(&mut self, segments: &[String], loc: Loc) -> (NodeId, Option<Loc>) {
        let mut parent = None;
        let mut id = 0;
        for (i, seg) in segments.iter().enumerate() {
            let children = match parent {
                None => &mut self.roots,
                Some(p) => &mut self.children[p],
            };
            id = match children.get(seg) {
                Some(&id) => id,
                None => {
                    let id = self.nodes.len();
                    self.nodes.push(HNode {
                        name: seg.clone(),
                        parent,
                        depth: i as u32 + 1,
                        loc,
                        explicit: false,
                        sensitive: false,
                        description: None,
                        doc: None,
                    });
                    children.insert(seg.clone(), id);
                    self.children.push(HashMap::new());
                    id
                }
            };
            parent = Some(id);
        }
        let node = &mut self.nodes[id];
        let previous = if node.explicit { Some(node.loc) } else { None };
        if !node.explicit {
            node.explicit = true;
            node.loc = loc;
        }
        (id, previous)
    }

    /// Is `node` equal to `ancestor` or below it?
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn is_under(&self, mut node: NodeId, ancestor: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(p) => node = p,
                None => return false,
            }
        }
    }

    /// Is the node (or one of its ancestors) marked sensitive? Returns the sensitive ancestor.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids (`SourceId`, `ColumnId`, rule, policy and node ids) index the model's own tables, which the resolver fills before handing out an id and never shrinks; per-column vectors have one entry per column of that source"
    )]
    pub fn sensitive_ancestor(&self, mut node: NodeId) -> Option<NodeId> {
        loop {
            if self.nodes[node].sensitive {
                return Some(node);
            }
            node = self.nodes[node].parent?;
        }
    }

    /// Every node's path (for suggestions: O(total length of the paths)).
    pub fn paths(&self) -> Vec<String> {
        (0..self.nodes.len()).map(|n| self.path(n)).collect()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source_map::FileId;
    use pol_grammar::Span;

    fn at() -> Loc {
        Loc::new(FileId(0), Span::new(0, 1))
    }

    /// Linear paths (issue 9, item 2): a node holds its own segment only, so the text a
    /// `k`-segment path stores is the text of its segments, not the k²/2 of its prefixes.
    #[test]
    fn a_long_path_stores_each_segment_once() {
        let segments: Vec<String> = (0..10_000).map(|i| format!("s{i}")).collect();
        let mut h = Hierarchy::default();
        let (leaf, previous) = h.declare(&segments, at());
        assert_eq!(previous, None);
        assert_eq!(h.len(), 10_000);
        let stored: usize = h.nodes.iter().map(|n| n.name.len()).sum();
        let written: usize = segments.iter().map(String::len).sum();
        assert_eq!(stored, written);
        assert_eq!(h.nodes[leaf].depth, 10_000);
        let path = segments.join(".");
        assert_eq!(h.path(leaf), path);
        assert_eq!(h.get(&path), Some(leaf));
        assert_eq!(h.get("s0.s1"), Some(1));
        assert_eq!(h.get("s0.s2"), None);
        // Declaring it again finds every node (and reports the duplicate).
        let (again, previous) = h.declare(&segments, at());
        assert_eq!((again, previous), (leaf, Some(at())));
        assert_eq!(h.len(), 10_000);
    }

    #[test]
    fn siblings_with_the_same_segment_under_different_parents_are_distinct() {
        let mut h = Hierarchy::default();
        let s = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        let (a, _) = h.declare(&s("A.X"), at());
        let (b, _) = h.declare(&s("B.X"), at());
        assert_ne!(a, b);
        assert_eq!(h.path(a), "A.X");
        assert_eq!(h.path(b), "B.X");
        assert_eq!(h.paths(), vec!["A", "A.X", "B", "B.X"]);
        assert!(h.is_under(a, 0) && !h.is_under(b, 0));
    }
}
