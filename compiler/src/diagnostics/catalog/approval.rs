//! The approval of temporary unmask requests (`with approval by C within D`): E0061 to E0063.

use crate::diagnostics::{Code, Diagnostic};
use crate::source_map::Loc;
use pol_runtime::bundle::grants::{MAX_APPROVAL_SECONDS, MIN_APPROVAL_SECONDS};

impl Diagnostic {
    /// E0061: `with approval` on a grant kind that gives its answer at once (`allow detokenize`).
    pub fn approval_not_allowed(at: Loc, kind: &str) -> Diagnostic {
        Diagnostic::new(
            Code::ApprovalNotAllowed,
            format!("`{kind}` cannot wait for approval"),
            at,
            "approval not allowed here",
        )
        .with_help(
            "only `allow temporary unmask` requests wait for an approver; remove `with approval`",
        )
    }

    /// E0062: `with approval` without `by C`, or with a constant condition.
    pub fn approval_without_approvers(at: Loc, constant: bool) -> Diagnostic {
        let (message, label) = if constant {
            (
                "the approvers' condition does not depend on the user",
                "a constant: everyone or nobody approves",
            )
        } else {
            ("`with approval` names no approvers", "no `by` condition")
        };
        Diagnostic::new(Code::ApprovalWithoutApprovers, message, at, label).with_help(
            "say who approves, e.g. `with approval by user has role \"privacy_officer\"`",
        )
    }

    /// E0063: an approval window (`within D`) outside 5 minutes to 72 hours.
    pub fn approval_window(at: Loc) -> Diagnostic {
        Diagnostic::new(
            Code::ApprovalWindow,
            format!(
                "a request waits for approval from {}m to {}h",
                MIN_APPROVAL_SECONDS / 60,
                MAX_APPROVAL_SECONDS / 3_600
            ),
            at,
            "out of range",
        )
        .with_help("a request nobody answers in time expires; ask again then")
    }
}
