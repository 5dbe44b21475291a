//! `polc build`: check a policy set and write its binary bundle; and the helpers the other
//! running commands (`eval`, `explain`, `test`) share: load and check, refuse on errors, lower,
//! read keys.

use super::fail_usage;
use crate::diagnostics::{self, render};
use crate::source_map::SourceMap;
use crate::Analysis;
use pol_runtime::{Bundle, KeyRing, MaskingKey};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A checked policy set, with its files (for rendering locations).
pub(crate) struct Checked {
    pub files: SourceMap,
    pub analysis: Analysis,
}

/// Loads and checks `paths`. On an I/O error or an empty set: `Err(exit 2)`. On check errors:
/// the diagnostics on stderr and `Err(exit 1)`. With `show_warnings`, warnings are printed even
/// when there is no error.
pub(crate) fn load_checked(paths: &[PathBuf], show_warnings: bool) -> Result<Checked, ExitCode> {
    let set = super::one_set(paths)?;
    load_set(paths, &set, show_warnings)
}

/// Loads and checks the files of one policy set (`paths`, as given, name it in messages).
pub(crate) fn load_set(
    paths: &[PathBuf],
    set: &[PathBuf],
    show_warnings: bool,
) -> Result<Checked, ExitCode> {
    let files = SourceMap::load(set).map_err(fail_usage)?;
    if files.is_empty() {
        return Err(fail_usage(format!(
            "no .pol files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let analysis = crate::check(&files);
    let (errors, _) = diagnostics::count(&analysis.diagnostics);
    if errors > 0 || show_warnings {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        eprint!(
            "{}",
            render::render(
                render::Format::Human { color },
                &analysis.diagnostics,
                &files
            )
        );
    }
    if errors > 0 {
        eprintln!(
            "error: the policy set has {errors} error{}; nothing was built",
            if errors == 1 { "" } else { "s" }
        );
        return Err(ExitCode::from(1));
    }
    Ok(Checked { files, analysis })
}

/// The refusal of a policy set that does not check, in the words `polc diff` uses too: its
/// name, then the rendered diagnostics.
pub(crate) fn does_not_check(name: &str, rendered: &str) -> String {
    format!("{name} does not check; fix it first:\n{rendered}")
}

/// Loads and checks `paths` for a command that runs the policies (`eval`, `explain`,
/// `grants request`, `detokenize`): a set with errors is refused as `polc diff` refuses it
/// ([`does_not_check`], exit 2); warnings are not printed.
pub(crate) fn load_for_running(paths: &[PathBuf]) -> Result<Checked, ExitCode> {
    let set = super::one_set(paths)?;
    let files = SourceMap::load(&set).map_err(fail_usage)?;
    let names = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if files.is_empty() {
        return Err(fail_usage(format!("no .pol files in {names}")));
    }
    let analysis = crate::check(&files);
    if analysis.has_errors() {
        let rendered = render::render(
            render::Format::Human { color: false },
            &analysis.diagnostics,
            &files,
        );
        return Err(fail_usage(does_not_check(&names, &rendered)));
    }
    Ok(Checked { files, analysis })
}

impl Checked {
    /// The lowered bundle.
    pub fn bundle(&self) -> Bundle {
        crate::lower::lower(&self.analysis.model, &self.analysis.resolution)
    }
}

/// Reads a key file (`--key-file`); a usage error (exit 2) when it cannot be read or is short.
pub(crate) fn read_key(path: &Path) -> Result<KeyRing, ExitCode> {
    MaskingKey::from_file(path)
        .map(KeyRing::new)
        .map_err(|e| fail_usage(format!("key file {}: {e}", path.display())))
}

/// What `polc build` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// The binary bundle (`.polb`), with its debug section (the source span of every op).
    Bundle,
    /// The bundle's disassembly: tables, plans and every program, op by op with its source span.
    Asm,
}

/// `polc build PATHS… [-o FILE] [--emit bundle|asm]`.
pub fn run(paths: &[PathBuf], output: Option<&Path>, emit: Emit) -> ExitCode {
    if emit == Emit::Bundle && output.is_none() {
        return fail_usage("`polc build` needs `-o FILE` to write a bundle");
    }
    let checked = match load_checked(paths, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let a = &checked.analysis;
    let bundle = crate::lower::lower_with_spans(&a.model, &a.resolution, &checked.files);
    if let Err(e) = bundle.verify() {
        return fail_usage(format!(
            "internal error: the lowered bundle is invalid: {e}"
        ));
    }
    let code = match (emit, output) {
        (Emit::Bundle, Some(output)) => write_bundle(&bundle, output),
        (Emit::Asm, Some(output)) => match std::fs::write(output, bundle.to_string()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail_usage(format!("cannot write {}: {e}", output.display())),
        },
        (_, None) => {
            print!("{bundle}");
            ExitCode::SUCCESS
        }
    };
    // `polc build` exits once the bundle is written: the syntax trees, the model and the bundle
    // are left to the process's end instead of being torn down node by node (8% of a 1M-line
    // build).
    std::mem::forget((checked, bundle));
    code
}

fn write_bundle(bundle: &Bundle, output: &Path) -> ExitCode {
    let bytes = match bundle.to_bytes() {
        Ok(b) => b,
        Err(e) => return fail_usage(format!("cannot encode the bundle: {e}")),
    };
    if let Err(e) = std::fs::write(output, &bytes) {
        return fail_usage(format!("cannot write {}: {e}", output.display()));
    }
    eprintln!(
        "built {} ({} bytes, {} source{})",
        output.display(),
        bytes.len(),
        bundle.sources.len(),
        if bundle.sources.len() == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}
