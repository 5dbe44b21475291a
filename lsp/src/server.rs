//! The LSP service: document sync, the analysis worker and one handler per feature, each
//! converting LSP ↔ ide types around a question to a snapshot of the compiler's analysis host
//! ([`pol_compiler::ide::AnalysisHost`]). The host owns the files and their parses; this module
//! only decides when to analyse, which snapshot answers, and what to publish.

use crate::convert;
use crate::memory::{self, Shrink};
use crate::uri;
use pol_compiler::ide::host::{Analysis, LineCol16, SetAnalysis as Snapshot, TextChange};
use pol_compiler::ide::{AnalysisHost, Change, CompletionKind, FileKey};
use pol_compiler::policy_sets::MANIFEST;
use pol_compiler::source_map::FileId;
use pol_grammar::LineIndex;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

/// How long a request waits for the analysis of the latest text before answering from the
/// previous one.
const FRESH_WAIT: Duration = Duration::from_secs(3);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Backend {
    host: Arc<Mutex<AnalysisHost>>,
    wake: Arc<Notify>,
    /// The newest complete analysis.
    snapshots: watch::Receiver<Analysis>,
    /// False while the workspace folders' files are being read (after `initialize`): requests
    /// wait for them rather than answer from a policy set without them.
    loaded: watch::Sender<bool>,
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        let host = Arc::new(Mutex::new(AnalysisHost::new()));
        let wake = Arc::new(Notify::new());
        let (tx, rx) = watch::channel(Analysis::empty());
        let loaded = watch::Sender::new(true);
        tokio::spawn(worker(
            client.clone(),
            host.clone(),
            wake.clone(),
            loaded.subscribe(),
            tx,
        ));
        Backend {
            host,
            wake,
            snapshots: rx,
            loaded,
        }
    }

    fn changed(&self) {
        self.wake.notify_one();
    }

    /// The analysis of the current text (waiting for it a moment), else the latest one.
    async fn snapshot(&self) -> Analysis {
        let deadline = tokio::time::Instant::now() + FRESH_WAIT;
        let mut loaded = self.loaded.subscribe();
        let _ = tokio::time::timeout_at(deadline, loaded.wait_for(|l| *l)).await;
        let want = lock(&self.host).generation();
        let mut rx = self.snapshots.clone();
        loop {
            {
                let s = rx.borrow_and_update().clone();
                if s.generation() >= want {
                    return s;
                }
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => continue,
                _ => return rx.borrow().clone(),
            }
        }
    }

    /// The latest analysis, without waiting for that of the latest text unless there is none
    /// yet (or the workspace is still being read).
    async fn latest(&self) -> Analysis {
        let s = self.snapshots.borrow().clone();
        if s.generation() > 0 && *self.loaded.borrow() {
            return s;
        }
        self.snapshot().await
    }

    /// Runs a question on the analysis of a document, off the async threads.
    async fn ask<T, F>(&self, uri: &Url, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Snapshot, FileId) -> Option<T> + Send + 'static,
    {
        let sets = self.snapshot().await;
        let Some((snap, file)) = sets.file(&uri::key(uri)) else {
            return Ok(None);
        };
        let snap = snap.clone();
        match tokio::task::spawn_blocking(move || f(&snap, file)).await {
            Ok(v) => Ok(v),
            Err(e) => Err(Error {
                code: ErrorCode::InternalError,
                message: format!("internal error: {e}").into(),
                data: None,
            }),
        }
    }

    fn apply(&self, change: Change) {
        lock(&self.host).apply_change(change);
    }
}

/// Analyses each new generation of the host's files; publishes diagnostics unless a newer
/// generation arrived meanwhile (that analysis is dropped: the newer one follows; the parses it
/// made are kept by the host).
async fn worker(
    client: Client,
    host: Arc<Mutex<AnalysisHost>>,
    wake: Arc<Notify>,
    mut loaded: watch::Receiver<bool>,
    tx: watch::Sender<Analysis>,
) {
    let mut done = 0u64;
    let mut published: Published = HashMap::new();
    let mut shrink = Shrink::default();
    loop {
        wake.notified().await;
        // While the workspace folders are read, a document opened meanwhile is not analysed
        // alone (its diagnostics would be those of a partial set); a client that never says
        // `initialized` only delays the first analysis.
        let _ = tokio::time::timeout(FRESH_WAIT, loaded.wait_for(|l| *l)).await;
        let snap = lock(&host).snapshot();
        let generation = snap.generation();
        if generation == done {
            continue;
        }
        let bytes = snap.bytes();
        shrink.analysed(bytes);
        let result = tokio::task::spawn_blocking(move || {
            snap.analyse();
            snap
        })
        .await;
        let snap = match result {
            Ok(r) => r,
            Err(e) => {
                done = generation;
                client
                    .log_message(MessageType::ERROR, format!("pol-lsp: analysis failed: {e}"))
                    .await;
                continue;
            }
        };
        if lock(&host).generation() != generation {
            continue;
        }
        done = generation;
        let replaced = tx.send_replace(snap.clone());
        publish(&client, &snap, &mut published).await;
        // The previous analysis is freed after publishing, off the async threads (unless a
        // request still reads it); so is the one the analysis reused (`settle`) before a trim.
        let trim = shrink.due(bytes);
        let freeing = tokio::task::spawn_blocking(move || {
            drop(replaced);
            if trim {
                snap.settle();
                drop(snap);
                // A trim walks the whole heap.
                memory::trim();
            }
        });
        if trim {
            let _ = freeing.await;
        }
    }
}

/// What the client was last sent for each file that has diagnostics or is open: the version and
/// the diagnostics. A file whose version and diagnostics are those sent is not sent again.
type Published = HashMap<Url, (Option<i32>, Vec<Diagnostic>)>;

/// Publishes the diagnostics of every set, and of every invalid `pol.toml`: of each file, only
/// when they (or the open document's version) changed since last sent.
async fn publish(client: &Client, sets: &Analysis, published: &mut Published) {
    let mut now: Published = HashMap::new();
    for snap in sets.sets() {
        publish_set(client, snap, published, &mut now).await;
    }
    for bad in sets.bad_manifests() {
        let Ok(bad_uri) = Url::from_file_path(&bad.path) else {
            continue;
        };
        let diags = vec![convert::manifest_error(bad)];
        if published.get(&bad_uri) != Some(&(None, diags.clone())) {
            client
                .publish_diagnostics(bad_uri.clone(), diags.clone(), None)
                .await;
        }
        now.insert(bad_uri, (None, diags));
    }
    for gone in published.keys() {
        if !now.contains_key(gone) && !sets.contains(&uri::key(gone)) {
            client
                .publish_diagnostics(gone.clone(), Vec::new(), None)
                .await;
        }
    }
    *published = now;
}

/// Publishes the diagnostics of one set's files (each file's list as the analysis keeps it)
/// that changed since last sent; records what the client has in `now`.
async fn publish_set(client: &Client, snap: &Snapshot, published: &Published, now: &mut Published) {
    for (file, key) in snap.files() {
        let Some(uri) = uri::url(key) else {
            continue;
        };
        let diags: Vec<Diagnostic> = snap
            .ide
            .file_diagnostics_slice(file)
            .iter()
            .map(|d| convert::diagnostic(snap, d))
            .collect();
        let version = snap.version(file);
        let sent = published.get(&uri);
        // Open documents get their diagnostics at each version (empty or not), so an editor
        // knows which text they describe; other files only when they have some or had some.
        let unchanged = match sent {
            Some((v, d)) => *v == version && *d == diags,
            None => diags.is_empty() && version.is_none(),
        };
        if !unchanged {
            client
                .publish_diagnostics(uri.clone(), diags.clone(), version)
                .await;
        }
        if !diags.is_empty() || version.is_some() {
            now.insert(uri, (version, diags));
        }
    }
}

/// A hover at a position of `current` (the editor's text of a file), answered by an analysis of
/// an older text when the hovered name lies in a stretch the edit did not touch; `None` when it
/// does not (or nothing is there: the fresh analysis is asked then).
fn hover_from_older(
    analysis: &Analysis,
    uri: &Url,
    current: &str,
    position: Position,
) -> Option<Hover> {
    let lines = LineIndex::new(current);
    let offset = lines.offset_utf16(current, position.line, position.character);
    let h = analysis.hover_in(&uri::key(uri), current, offset)?;
    let at = |o: u32| {
        let (line, character) = lines.position_utf16(current, o as usize);
        Position { line, character }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markdown,
        }),
        range: Some(Range {
            start: at(h.loc.span.start),
            end: at(h.loc.span.end),
        }),
    })
}

/// An LSP content change as a host text change.
fn text_change(c: TextDocumentContentChangeEvent) -> TextChange {
    let at = |p: Position| LineCol16 {
        line: p.line,
        character: p.character,
    };
    TextChange {
        range: c.range.map(|r| (at(r.start), at(r.end))),
        text: c.text,
    }
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut roots = Vec::new();
        if let Some(folders) = &params.workspace_folders {
            roots.extend(folders.iter().filter_map(|f| f.uri.to_file_path().ok()));
        }
        #[allow(deprecated)]
        if roots.is_empty() {
            if let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path().ok()) {
                roots.push(p);
            }
        }
        if !roots.is_empty() {
            self.loaded.send_replace(false);
        }
        self.apply(Change::Folders(roots));
        self.changed();
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "pol-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".to_string(), " ".to_string()]),
                    ..Default::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: SemanticTokensLegend {
                                token_types: convert::token_legend(),
                                token_modifiers: convert::token_modifiers(),
                            },
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            work_done_progress_options: Default::default(),
                        },
                    ),
                ),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                inlay_hint_provider: Some(OneOf::Left(true)),
                document_formatting_provider: crate::format::capability(),
                ..Default::default()
            },
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let roots = lock(&self.host).folders().to_vec();
        let loaded = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for r in roots {
                for p in pol_compiler::source_map::pol_files_under(&r) {
                    if let Ok(text) = std::fs::read_to_string(&p) {
                        out.push(Change::Disk {
                            file: FileKey::Path(p),
                            text,
                        });
                    }
                }
            }
            out
        })
        .await
        .unwrap_or_default();
        {
            let mut host = lock(&self.host);
            for change in loaded {
                host.apply_change(change);
            }
        }
        self.loaded.send_replace(true);
        self.changed();
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        self.apply(Change::Open {
            file: uri::key(&doc.uri),
            text: doc.text,
            version: doc.version,
        });
        self.changed();
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        self.apply(Change::Edit {
            file: uri::key(&uri),
            changes: params
                .content_changes
                .into_iter()
                .map(text_change)
                .collect(),
            version: params.text_document.version,
        });
        self.changed();
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.apply(Change::Close {
            file: uri::key(&uri),
        });
        self.changed();
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut any = false;
        for change in params.changes {
            let uri = change.uri;
            if uri.path().ends_with(&format!("/{MANIFEST}")) {
                // A policy-set root appeared, changed or went: the sets are formed again.
                self.apply(Change::ManifestChanged);
                any = true;
                continue;
            }
            let is_pol = uri.path().ends_with(".pol");
            let file = uri::key(&uri);
            if !is_pol || lock(&self.host).is_open(&file) {
                continue;
            }
            if change.typ == FileChangeType::DELETED {
                self.apply(Change::Removed { file });
                any = true;
                continue;
            }
            let text = uri
                .to_file_path()
                .ok()
                .and_then(|p| std::fs::read_to_string(p).ok());
            if let Some(text) = text {
                self.apply(Change::Disk { file, text });
                any = true;
            }
        }
        if any {
            self.changed();
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        // While the latest text is being analysed, a hover outside the edited stretch is answered
        // by the previous analysis (see `reuse`).
        let latest = self.snapshots.borrow().clone();
        let current = lock(&self.host).text(&uri::key(&p.text_document.uri));
        if let (Some(current), true) = (current, latest.generation() > 0 && *self.loaded.borrow()) {
            let (uri, position) = (p.text_document.uri.clone(), p.position);
            let reused = tokio::task::spawn_blocking(move || {
                hover_from_older(&latest, &uri, &current, position)
            })
            .await;
            if let Ok(Some(answer)) = reused {
                return Ok(Some(answer));
            }
        }
        self.ask(&p.text_document.uri, move |snap, file| {
            let offset = convert::offset(snap, file, p.position);
            let h = snap.ide.hover(file, offset)?;
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: h.markdown,
                }),
                range: Some(convert::range(snap, h.loc.file, h.loc.span)),
            })
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        // The editor's current text, with the names of the latest analysis: completing does not
        // wait for the analysis of the keystroke just typed.
        let key = uri::key(&p.text_document.uri);
        let Some(text) = lock(&self.host).text(&key) else {
            return Ok(None);
        };
        // A space triggers completion for what follows `tagged `, `using `, `acting under `, …;
        // where only keywords (and the built-in functions) would come (after any other word), it
        // proposes nothing rather than open a list at every space.
        let by_space = params
            .context
            .as_ref()
            .is_some_and(|c| c.trigger_character.as_deref() == Some(" "));
        let sets = self.latest().await;
        let answer = tokio::task::spawn_blocking(move || {
            let lines = LineIndex::new(&text);
            let offset = lines.offset_utf16(&text, p.position.line, p.position.character);
            let mut items = sets.completions_in(&key, &text, offset);
            let only_keywords = items.iter().all(|i| {
                matches!(
                    i.kind,
                    CompletionKind::Keyword | CompletionKind::Snippet | CompletionKind::Function
                )
            });
            if by_space && only_keywords {
                items.clear();
            }
            CompletionResponse::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| convert::completion(c, i))
                    .collect(),
            )
        })
        .await;
        match answer {
            Ok(r) => Ok(Some(r)),
            Err(e) => Err(Error {
                code: ErrorCode::InternalError,
                message: format!("internal error: {e}").into(),
                data: None,
            }),
        }
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.ask(&p.text_document.uri, move |snap, file| {
            let offset = convert::offset(snap, file, p.position);
            let locs: Vec<Location> = snap
                .ide
                .definition(file, offset)
                .into_iter()
                .filter_map(|l| convert::location(snap, l))
                .collect();
            (!locs.is_empty()).then_some(GotoDefinitionResponse::Array(locs))
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        self.ask(&p.text_document.uri, move |snap, file| {
            let offset = convert::offset(snap, file, p.position);
            let locs: Vec<Location> = snap
                .ide
                .references(file, offset, include)
                .into_iter()
                .filter_map(|l| convert::location(snap, l))
                .collect();
            (!locs.is_empty()).then_some(locs)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.ask(&params.text_document.uri, move |snap, file| {
            let offset = convert::offset(snap, file, params.position);
            let loc = snap.ide.prepare_rename(file, offset)?;
            Some(PrepareRenameResponse::Range(convert::range(
                snap, loc.file, loc.span,
            )))
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let new_name = params.new_name;
        let answer = self
            .ask(&p.text_document.uri, move |snap, file| {
                let offset = convert::offset(snap, file, p.position);
                Some(
                    snap.ide
                        .rename(file, offset, &new_name)
                        .map(|edits| convert::text_edits(snap, &edits)),
                )
            })
            .await?;
        match answer {
            None => Ok(None),
            Some(Ok(changes)) => Ok(Some(WorkspaceEdit {
                changes: Some(changes),
                ..Default::default()
            })),
            Some(Err(e)) => Err(Error {
                code: ErrorCode::InvalidParams,
                message: e.message.into(),
                data: None,
            }),
        }
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.ask(&params.text_document.uri, move |snap, file| {
            let symbols = snap.ide.document_symbols(file);
            Some(DocumentSymbolResponse::Nested(
                symbols
                    .iter()
                    .map(|s| convert::document_symbol(snap, file, s))
                    .collect(),
            ))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<Vec<SymbolInformation>>> {
        let sets = self.snapshot().await;
        let query = params.query;
        let result = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for snap in sets.sets() {
                #[allow(deprecated)]
                out.extend(
                    snap.ide
                        .workspace_symbols(&query)
                        .into_iter()
                        .filter_map(|s| {
                            Some(SymbolInformation {
                                name: s.name,
                                kind: convert::symbol_kind(s.kind),
                                tags: None,
                                deprecated: None,
                                location: convert::location(snap, s.loc)?,
                                container_name: s.container,
                            })
                        }),
                );
            }
            out
        })
        .await
        .unwrap_or_default();
        Ok(Some(result))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.ask(&params.text_document.uri, move |snap, file| {
            let mut out: Vec<FoldingRange> = Vec::new();
            for span in snap.ide.folding_ranges(file) {
                let r = convert::range(snap, file, span);
                if r.end.line > r.start.line
                    && !out
                        .iter()
                        .any(|f| f.start_line == r.start.line && f.end_line == r.end.line)
                {
                    out.push(FoldingRange {
                        start_line: r.start.line,
                        start_character: None,
                        end_line: r.end.line,
                        end_character: None,
                        kind: None,
                        collapsed_text: None,
                    });
                }
            }
            Some(out)
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.ask(&params.text_document.uri, move |snap, file| {
            let tokens = snap.ide.highlight(file);
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data: convert::semantic_tokens(snap, file, &tokens),
            }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        let range = params.range;
        self.ask(&uri, move |snap, file| {
            let span = convert::span(snap, file, range);
            let actions = snap.ide.code_actions(file, span);
            Some(
                actions
                    .into_iter()
                    .map(|a| {
                        let diagnostic = a
                            .diagnostic
                            .and_then(|i| snap.ide.diagnostics().get(i))
                            .map(|d| convert::diagnostic(snap, d));
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: a.title,
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: diagnostic.map(|d| vec![d]),
                            edit: Some(WorkspaceEdit {
                                changes: Some(convert::text_edits(snap, &a.edits)),
                                ..Default::default()
                            }),
                            command: None,
                            is_preferred: Some(a.preferred),
                            disabled: None,
                            data: None,
                        })
                    })
                    .collect(),
            )
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let range = params.range;
        self.ask(&params.text_document.uri, move |snap, file| {
            let span = convert::span(snap, file, range);
            Some(
                snap.ide
                    .inlay_hints(file)
                    .into_iter()
                    .filter(|h| span.contains(h.offset))
                    .map(|h| InlayHint {
                        position: convert::position(snap, file, h.offset),
                        label: InlayHintLabel::String(h.label),
                        kind: None,
                        text_edits: None,
                        tooltip: None,
                        padding_left: Some(true),
                        padding_right: None,
                        data: None,
                    })
                    .collect(),
            )
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let answer = self
            .ask(&params.text_document.uri, move |snap, file| {
                Some(crate::format::format(snap, file))
            })
            .await?;
        match answer {
            None => Ok(None),
            Some(Ok(edits)) => Ok(Some(edits)),
            // A file that does not parse is left as it is (its syntax errors are published).
            Some(Err(_)) => Ok(None),
        }
    }
}
