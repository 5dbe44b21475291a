//! The graph of linked row rules, read by applications that must give parent rows (a Spark
//! job collecting a parent DataFrame, a service checking what a caller gave).

use super::{verify, Bundle};

impl Bundle {
    /// The sources (indices into [`Bundle::sources`]) whose shown rows the row rules of
    /// source `source` follow (`only show rows linked to shown P`, in any clause), each once,
    /// in rule order. Empty for a source without linked rules or an index out of range. The
    /// verifier guarantees the graph has no cycle and no chain longer than
    /// [`MAX_LINK_DEPTH`](super::MAX_LINK_DEPTH).
    pub fn link_parents(&self, source: usize) -> Vec<usize> {
        verify::link_parents(self, source)
    }
}
