//! The message loop: the `initialize` handshake, then requests and notifications in order until
//! `shutdown` and `exit`. Diagnostics are computed after each batch of messages that have
//! already arrived, so a burst of keystrokes is checked once (a debounce without a timer).

use super::analysis::Analysis;
use super::code_actions::{self, ClientCaps, EXPLAIN};
use super::diagnostics;
use super::documents::{path_of, Documents, Lines};
use super::settings::{is_config_file, Settings};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeActionParams, Diagnostic, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    ExecuteCommandParams, InitializeParams, MessageType,
};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs the handshake and the loop; returns the exit code.
pub fn serve(conn: &Connection) -> Result<u8, Error> {
    let (id, params) = conn.initialize_start()?;
    let caps = ClientCaps::from_params(&params);
    let init: Option<InitializeParams> = serde_json::from_value(params).ok();
    let root = workspace_root(init.as_ref());
    conn.initialize_finish(
        id,
        json!({
            "capabilities": capabilities(),
            "serverInfo": { "name": "connlint", "version": env!("CARGO_PKG_VERSION") },
        }),
    )?;
    let (settings, problem) = match Settings::load(&root) {
        Ok(s) => (s, None),
        Err(e) => (Settings::defaults(&root), Some(e)),
    };
    let mut server = Server {
        conn,
        caps,
        root: root.clone(),
        docs: Documents::default(),
        analysis: Analysis::new(root, settings),
        dirty: BTreeSet::new(),
        published: HashMap::new(),
        next_id: 0,
        timings: std::env::var_os("CONNLINT_TIMINGS").is_some_and(|v| v == "1"),
    };
    // (lsp-server's handshake has already taken the `initialized` notification.)
    server.watch_files()?;
    if let Some(e) = problem {
        server.show(
            MessageType::ERROR,
            format!("connlint: invalid configuration, checking with the defaults:\n{e}"),
        )?;
    }
    if let Some(n) = server.analysis.too_big {
        server.show(
            MessageType::WARNING,
            format!("connlint: the workspace has {n} Rust files, too many to read; only open files are checked, each on its own"),
        )?;
    }
    server.run()
}

/// What the server offers: incremental sync with save notifications, quick fixes, the explain
/// command. Positions are UTF-16, the protocol's default.
fn capabilities() -> Value {
    json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": {
            "openClose": true,
            "change": 2,
            "save": { "includeText": false },
        },
        "codeActionProvider": { "codeActionKinds": ["quickfix"] },
        "executeCommandProvider": { "commands": [EXPLAIN] },
    })
}

/// The first workspace folder, else the root URI or path, else the current directory.
#[allow(deprecated)] // root_uri and root_path: older clients send only those
fn workspace_root(init: Option<&InitializeParams>) -> PathBuf {
    let from_client = init.and_then(|p| {
        p.workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .and_then(|f| path_of(&f.uri))
            .or_else(|| p.root_uri.as_ref().and_then(path_of))
            .or_else(|| p.root_path.as_ref().map(PathBuf::from))
    });
    crate::config::absolute(&from_client.unwrap_or_else(|| PathBuf::from(".")))
}

struct Server<'c> {
    conn: &'c Connection,
    caps: ClientCaps,
    root: PathBuf,
    docs: Documents,
    analysis: Analysis,
    /// Open documents (URIs) whose diagnostics are out of date.
    dirty: BTreeSet<String>,
    /// The diagnostics last published for each open document, for code actions.
    published: HashMap<String, Vec<Diagnostic>>,
    next_id: i32,
    /// `CONNLINT_TIMINGS=1`: each check's time on stderr.
    timings: bool,
}

impl Server<'_> {
    fn run(&mut self) -> Result<u8, Error> {
        loop {
            // The client went away without `exit`: an abnormal end.
            let Ok(msg) = self.conn.receiver.recv() else {
                return Ok(1);
            };
            if let Some(code) = self.handle(msg)? {
                return Ok(code);
            }
            while let Ok(msg) = self.conn.receiver.try_recv() {
                if let Some(code) = self.handle(msg)? {
                    return Ok(code);
                }
            }
            self.publish_dirty()?;
        }
    }

    /// Handles one message; `Some(code)` ends the loop.
    fn handle(&mut self, msg: Message) -> Result<Option<u8>, Error> {
        match msg {
            Message::Request(req) => {
                if self.conn.handle_shutdown(&req)? {
                    return Ok(Some(0));
                }
                self.request(req)?;
            }
            Message::Notification(n) if n.method == "exit" => return Ok(Some(1)),
            Message::Notification(n) => self.notification(n)?,
            // Answers to our showDocument and registerCapability requests: nothing to do.
            Message::Response(_) => {}
        }
        Ok(None)
    }

    fn request(&mut self, req: Request) -> Result<(), Error> {
        let result = match req.method.as_str() {
            "textDocument/codeAction" => match serde_json::from_value(req.params) {
                Ok(p) => self.code_actions(p),
                Err(e) => Err(invalid(e)),
            },
            "workspace/executeCommand" => match serde_json::from_value(req.params) {
                Ok(p) => self.execute(p),
                Err(e) => Err(invalid(e)),
            },
            other => Err((
                ErrorCode::MethodNotFound,
                format!("connlint does not handle {other}"),
            )),
        };
        let resp = match result {
            Ok(v) => Response::new_ok(req.id, v),
            Err((code, msg)) => Response::new_err(req.id, code as i32, msg),
        };
        self.conn.sender.send(resp.into())?;
        Ok(())
    }

    fn notification(&mut self, n: Notification) -> Result<(), Error> {
        let params = n.params;
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(params) else {
                    return Ok(());
                };
                let d = p.text_document;
                if let Some(doc) = self.docs.open(d.uri, d.version, d.text) {
                    self.analysis.update(&doc.path, Some(doc.text.clone()));
                    self.dirty.insert(doc.uri.as_str().to_string());
                }
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(params) else {
                    return Ok(());
                };
                let d = p.text_document;
                if let Some(doc) = self.docs.change(&d.uri, d.version, p.content_changes) {
                    self.analysis.update(&doc.path, Some(doc.text.clone()));
                    self.dirty.insert(doc.uri.as_str().to_string());
                }
            }
            "textDocument/didSave" => {
                let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(params) else {
                    return Ok(());
                };
                if let Some(path) = path_of(&p.text_document.uri) {
                    self.changed_on_disk(&[path])?;
                }
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(params) else {
                    return Ok(());
                };
                if let Some(doc) = self.docs.close(&p.text_document.uri) {
                    self.analysis.update(&doc.path, None);
                    let key = doc.uri.as_str().to_string();
                    self.dirty.remove(&key);
                    self.published.remove(&key);
                    self.publish(&doc.uri, None, Vec::new())?;
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = serde_json::from_value::<DidChangeWatchedFilesParams>(params) else {
                    return Ok(());
                };
                let paths: Vec<PathBuf> =
                    p.changes.iter().filter_map(|c| path_of(&c.uri)).collect();
                self.changed_on_disk(&paths)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Files changed on disk: the configuration is reloaded if it was one of them, the others
    /// are read again, and every open document is checked again (a helper it uses may have
    /// changed).
    fn changed_on_disk(&mut self, paths: &[PathBuf]) -> Result<(), Error> {
        if paths.iter().any(|p| is_config_file(p)) {
            self.reload()?;
        } else {
            for p in paths {
                self.analysis.refresh(p);
            }
        }
        self.dirty
            .extend(self.docs.all().map(|d| d.uri.as_str().to_string()));
        Ok(())
    }

    /// Loads the configuration again. A broken one is reported and the previous one is kept,
    /// so the findings do not change under the user while they edit it.
    fn reload(&mut self) -> Result<(), Error> {
        match Settings::load(&self.root) {
            Ok(s) => self.analysis.set_settings(s),
            Err(e) => self.show(
                MessageType::ERROR,
                format!("connlint: invalid configuration, still using the previous one:\n{e}"),
            )?,
        }
        Ok(())
    }

    /// Checks the out-of-date documents (one engine run) and publishes their diagnostics.
    fn publish_dirty(&mut self) -> Result<(), Error> {
        if self.dirty.is_empty() {
            return Ok(());
        }
        let uris = std::mem::take(&mut self.dirty);
        let docs: Vec<_> = uris
            .iter()
            .filter_map(|u| self.docs.all().find(|d| d.uri.as_str() == u))
            .collect();
        let paths: Vec<PathBuf> = docs.iter().map(|d| d.path.clone()).collect();
        let started = Instant::now();
        let mut findings = self.analysis.check_many(&paths);
        if self.timings {
            eprintln!(
                "connlint server: checked {} document(s) in {:.1} ms",
                paths.len(),
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        let mut out = Vec::new();
        for doc in docs {
            let list = findings.remove(&doc.path).unwrap_or_default();
            let lines = Lines::new(&doc.text);
            let diags: Vec<Diagnostic> = list
                .iter()
                .map(|f| diagnostics::diagnostic(f, &lines, &doc.uri))
                .collect();
            out.push((doc.uri.clone(), doc.version, diags));
        }
        for (uri, version, diags) in out {
            self.published
                .insert(uri.as_str().to_string(), diags.clone());
            self.publish(&uri, Some(version), diags)?;
        }
        Ok(())
    }

    fn publish(
        &self,
        uri: &lsp_types::Uri,
        version: Option<i32>,
        diagnostics: Vec<Diagnostic>,
    ) -> Result<(), Error> {
        let params = json!({ "uri": uri, "version": version, "diagnostics": diagnostics });
        self.notify("textDocument/publishDiagnostics", params)
    }

    fn code_actions(&mut self, p: CodeActionParams) -> Result<Value, (ErrorCode, String)> {
        let key = p.text_document.uri.as_str().to_string();
        // Diagnostics for the text the client sees now.
        if self.dirty.contains(&key) {
            self.publish_dirty().map_err(internal)?;
        }
        let Some(doc) = self.docs.get(&p.text_document.uri) else {
            return Ok(json!([]));
        };
        // The client's diagnostics at the range, or else ours that touch it.
        let mut at: Vec<Diagnostic> = p
            .context
            .diagnostics
            .into_iter()
            .filter(|d| diagnostics::rule_of(d).is_some())
            .collect();
        if at.is_empty() {
            let r = p.range;
            at = self
                .published
                .get(&key)
                .into_iter()
                .flatten()
                .filter(|d| d.range.start <= r.end && r.start <= d.range.end)
                .cloned()
                .collect();
        }
        Ok(Value::Array(code_actions::actions(doc, &at, self.caps)))
    }

    fn execute(&mut self, p: ExecuteCommandParams) -> Result<Value, (ErrorCode, String)> {
        if p.command != EXPLAIN {
            return Err((
                ErrorCode::InvalidParams,
                format!("unknown command {}", p.command),
            ));
        }
        let rule = p.arguments.first().and_then(Value::as_str).unwrap_or("");
        let Some(doc) = crate::rules::doc(rule) else {
            return Err((ErrorCode::InvalidParams, format!("unknown rule `{rule}`")));
        };
        self.explain(rule, doc).map_err(internal)?;
        Ok(Value::Null)
    }

    /// Shows a rule's documentation: opened in the editor (a Markdown file written to the
    /// temporary directory) where the client can show documents, else as a message.
    fn explain(&mut self, rule: &str, doc: &str) -> Result<(), Error> {
        if self.caps.show_document {
            if let Some(file) = write_doc(rule, doc) {
                let uri = super::documents::uri_of(&file);
                return self.send_request(
                    "window/showDocument",
                    json!({ "uri": uri, "takeFocus": true }),
                );
            }
        }
        self.show(MessageType::INFO, doc.to_string())
    }

    /// Asks the client to tell us when a Rust file or a configuration file changes on disk.
    fn watch_files(&mut self) -> Result<(), Error> {
        if !self.caps.watch_files {
            return Ok(());
        }
        let watchers: Vec<Value> = ["**/*.rs", "**/connlint.toml", "**/Cargo.toml"]
            .iter()
            .map(|g| json!({ "globPattern": g }))
            .collect();
        self.send_request(
            "client/registerCapability",
            json!({ "registrations": [{
                "id": "connlint-watched-files",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": { "watchers": watchers },
            }] }),
        )
    }

    fn show(&self, typ: MessageType, message: String) -> Result<(), Error> {
        self.notify(
            "window/showMessage",
            json!({ "type": typ, "message": message }),
        )
    }

    fn notify(&self, method: &str, params: Value) -> Result<(), Error> {
        let n = Notification::new(method.to_string(), params);
        self.conn.sender.send(n.into())?;
        Ok(())
    }

    fn send_request(&mut self, method: &str, params: Value) -> Result<(), Error> {
        self.next_id += 1;
        let id = RequestId::from(format!("connlint-{}", self.next_id));
        let req = Request::new(id, method.to_string(), params);
        self.conn.sender.send(req.into())?;
        Ok(())
    }
}

/// `lints/<rule>.md` as it is embedded in this binary, in a file the editor can open.
fn write_doc(rule: &str, doc: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("connlint-{}-docs", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join(format!("{rule}.md"));
    std::fs::write(&file, doc).ok()?;
    Some(file)
}

fn invalid(e: serde_json::Error) -> (ErrorCode, String) {
    (ErrorCode::InvalidParams, e.to_string())
}

fn internal(e: Error) -> (ErrorCode, String) {
    (ErrorCode::InternalError, e.to_string())
}
