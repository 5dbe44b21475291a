//! Dotted hierarchies: tags (`PII.SSN` under `PII`) and purposes (`Research.Marketing`).

use crate::source_map::Loc;
use std::collections::HashMap;

pub type NodeId = usize;

#[derive(Clone, Debug)]
pub struct HNode {
    /// Full dotted path.
    pub path: String,
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
    index: HashMap<String, NodeId>,
}

impl Hierarchy {
    pub fn get(&self, path: &str) -> Option<NodeId> {
        self.index.get(path).copied()
    }

    /// Declares `path` and its prefixes; returns the node and whether it already existed as an
    /// explicit declaration (a duplicate).
    pub fn declare(&mut self, segments: &[String], loc: Loc) -> (NodeId, Option<Loc>) {
        let mut parent = None;
        let mut path = String::new();
        let mut id = 0;
        for (i, seg) in segments.iter().enumerate() {
            if i > 0 {
                path.push('.');
            }
            path.push_str(seg);
            id = match self.index.get(&path) {
                Some(&id) => id,
                None => {
                    let id = self.nodes.len();
                    self.nodes.push(HNode {
                        path: path.clone(),
                        parent,
                        depth: i as u32 + 1,
                        loc,
                        explicit: false,
                        sensitive: false,
                        description: None,
                        doc: None,
                    });
                    self.index.insert(path.clone(), id);
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
    pub fn sensitive_ancestor(&self, mut node: NodeId) -> Option<NodeId> {
        loop {
            if self.nodes[node].sensitive {
                return Some(node);
            }
            node = self.nodes[node].parent?;
        }
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.path.as_str())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}
