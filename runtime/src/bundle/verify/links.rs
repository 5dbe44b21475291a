//! The graph of linked row rules (`RowFilter::Linked`): a child source's rows follow a parent's,
//! so the graph must have no cycle (a row would depend on itself) and no chain longer than
//! [`MAX_LINK_DEPTH`] sources (a runtime following parents is bounded).

use super::{structure, VerifyError};
use crate::bundle::{Bundle, RowFilter, RowOtherwise, MAX_LINK_DEPTH};

/// The parents a source's row rules follow (each once).
pub(crate) fn parents(b: &Bundle, source: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(s) = b.sources.get(source) else {
        return out;
    };
    for r in &s.row_rules {
        let other = match &r.audience {
            crate::bundle::RowAudience::Who {
                otherwise: RowOtherwise::Filter(f),
                ..
            } => Some(f),
            _ => None,
        };
        for f in std::iter::once(&r.filter).chain(other) {
            if let RowFilter::Linked { parent, .. } = f {
                let p = *parent as usize;
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// Refuses a cycle of links or a chain of more than [`MAX_LINK_DEPTH`] sources.
pub(super) fn check(b: &Bundle) -> Result<(), VerifyError> {
    let n = b.sources.len();
    let edges: Vec<Vec<usize>> = (0..n).map(|s| parents(b, s)).collect();
    // Longest chain (in sources) starting at each source, computed depth first with an
    // explicit stack; 0 = not yet known.
    let mut depth = vec![0usize; n];
    let mut on_stack = vec![false; n];
    for root in 0..n {
        if depth.get(root).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        set(&mut on_stack, root, true);
        while let Some(&mut (s, ref mut next)) = stack.last_mut() {
            let parent = edges.get(s).and_then(|e| e.get(*next)).copied();
            *next += 1;
            match parent {
                Some(p) if on_stack.get(p).copied().unwrap_or(false) => {
                    return Err(structure(
                        format!("source {}", name(b, s)),
                        "linked row rules form a cycle",
                    ));
                }
                Some(p) if depth.get(p).copied().unwrap_or(0) == 0 => {
                    if stack.len() >= MAX_LINK_DEPTH {
                        return Err(too_long(b, root));
                    }
                    set(&mut on_stack, p, true);
                    stack.push((p, 0));
                }
                Some(_) => {}
                None => {
                    stack.pop();
                    set(&mut on_stack, s, false);
                    let d = 1 + edges
                        .get(s)
                        .map(|e| {
                            e.iter()
                                .map(|&p| depth.get(p).copied().unwrap_or(0))
                                .max()
                                .unwrap_or(0)
                        })
                        .unwrap_or(0);
                    if d > MAX_LINK_DEPTH {
                        return Err(too_long(b, s));
                    }
                    if let Some(x) = depth.get_mut(s) {
                        *x = d;
                    }
                }
            }
        }
    }
    Ok(())
}

fn set(v: &mut [bool], i: usize, to: bool) {
    if let Some(x) = v.get_mut(i) {
        *x = to;
    }
}

fn name(b: &Bundle, s: usize) -> &str {
    b.sources.get(s).map_or("?", |x| x.name.as_str())
}

fn too_long(b: &Bundle, s: usize) -> VerifyError {
    structure(
        format!("source {}", name(b, s)),
        format!("a chain of linked row rules longer than {MAX_LINK_DEPTH} sources"),
    )
}
