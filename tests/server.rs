//! `connlint server` driven as an editor drives it: the built binary is started, and the test
//! speaks JSON-RPC with Content-Length framing over its stdin/stdout. Every wait has a timeout,
//! so a hung server fails the test instead of hanging CI.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);
const REPO: &str = env!("CARGO_PKG_REPOSITORY");

const LEAK: &str = "\
use sqlx::PgPool;

async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    std::mem::forget(conn);
    Ok(())
}
";

const FIXED: &str = "\
use sqlx::PgPool;

async fn lock(pool: &PgPool) -> Result<(), sqlx::Error> {
    let conn = pool.acquire().await?;
    drop(conn);
    Ok(())
}
";

/// A language client talking to one server process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Messages received while waiting for something else.
    backlog: Vec<Value>,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_connlint"))
            .arg("server")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut r) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            rx,
            next_id: 0,
            backlog: Vec::new(),
        }
    }

    fn send(&mut self, msg: Value) {
        let body = serde_json::to_string(&msg).unwrap();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.wait(&format!("the response to {method}"), |m| {
            m["id"] == id && m.get("method").is_none()
        })
    }

    /// The first message (received or in the backlog) that `pred` accepts.
    fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return m,
                Ok(m) => self.backlog.push(m),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out waiting for {what}; got {:#?}", self.backlog)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output while we waited for {what}")
                }
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        self.wait(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        })["params"]
            .clone()
    }

    fn initialize(&mut self, root: &Path, capabilities: Value) -> Value {
        let resp = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{ "uri": uri(root), "name": "ws" }],
                "capabilities": capabilities,
            }),
        );
        self.notify("initialized", json!({}));
        resp
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": "rust", "version": 1, "text": text,
            } }),
        );
    }

    fn change(&mut self, uri: &str, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": changes,
            }),
        );
    }

    /// `shutdown` then `exit`; returns the process's exit code.
    fn shutdown(mut self) -> i32 {
        let resp = self.request("shutdown", Value::Null);
        assert!(resp.get("error").is_none(), "{resp}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One Content-Length framed message; `None` at the end of the stream.
fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("the server sends JSON"))
}

/// A `file:` URI as editors write it (spaces and other specials percent-encoded).
fn uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_str().unwrap().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A workspace (a git repository) with these files on disk.
fn workspace(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    // A space in the path: URIs must be encoded and decoded.
    let root = dir.path().join("my ws");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    for (rel, text) in files {
        write(&root, rel, text);
    }
    (dir, root)
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn pos(line: u32, character: u32) -> Value {
    json!({ "line": line, "character": character })
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({ "start": pos(l1, c1), "end": pos(l2, c2) })
}

fn code_actions(c: &mut Client, uri: &str, diag: &Value) -> Vec<Value> {
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": diag["range"],
            "context": { "diagnostics": [diag] },
        }),
    );
    resp["result"]
        .as_array()
        .expect("a list of code actions")
        .clone()
}

#[test]
fn server_checks_the_buffer_offers_fixes_and_clears_diagnostics() {
    // On disk the file is clean: the server must check the buffer, not the file.
    let (_tmp, root) = workspace(&[("src/lock.rs", FIXED)]);
    let file = uri(&root.join("src/lock.rs"));
    let mut c = Client::start(&root);
    let init = c.initialize(&root, json!({}));
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 2, "{init}");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert!(caps["textDocumentSync"]["save"].is_object());
    assert_eq!(
        caps["executeCommandProvider"]["commands"],
        json!(["connlint.explain"])
    );
    assert!(caps["codeActionProvider"].is_object());

    c.open(&file, LEAK);
    let published = c.diagnostics(&file);
    assert_eq!(published["version"], 1);
    let diags = published["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d["code"], "forgotten-connection");
    assert_eq!(d["source"], "connlint");
    assert_eq!(d["severity"], 1, "error, the rule's default");
    // `std::mem::forget(conn)` on line 5 (0-based 4), columns 5..27 (0-based 4..26).
    assert_eq!(d["range"], range(4, 4, 4, 26));
    assert_eq!(
        d["codeDescription"]["href"],
        format!("{REPO}/blob/main/lints/forgotten-connection.md")
    );
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains("forget") && msg.contains("\nhelp: "), "{msg}");
    let related = d["relatedInformation"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["location"]["uri"], file.as_str());
    assert_eq!(
        related[0]["location"]["range"]["start"]["line"], 3,
        "the acquisition"
    );
    assert!(!related[0]["message"].as_str().unwrap().is_empty());

    // Code actions: a suppression above the line, with the line's indentation, and an
    // explanation of the rule.
    let actions = code_actions(&mut c, &file, d);
    let suppress = actions
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Suppress"))
        .unwrap_or_else(|| panic!("{actions:#?}"));
    assert_eq!(suppress["kind"], "quickfix");
    let edits = &suppress["edit"]["changes"][&file];
    assert_eq!(
        edits,
        &json!([{
            "range": range(4, 0, 4, 0),
            "newText": "    // connlint: allow(forgotten-connection) reason\n",
        }])
    );
    let explain = actions
        .iter()
        .find(|a| a["command"]["command"] == "connlint.explain")
        .unwrap_or_else(|| panic!("{actions:#?}"));
    assert_eq!(
        explain["command"]["arguments"],
        json!(["forgotten-connection"])
    );

    // Applying the edit as the client would suppresses the finding.
    c.change(
        &file,
        2,
        json!([{ "range": edits[0]["range"], "text": edits[0]["newText"] }]),
    );
    let published = c.diagnostics(&file);
    assert_eq!(published["version"], 2);
    assert_eq!(
        published["diagnostics"],
        json!([]),
        "the suppression applies"
    );

    // The leak again (whole-text sync), then fixed by a ranged edit.
    c.change(&file, 3, json!([{ "text": LEAK }]));
    let published = c.diagnostics(&file);
    assert_eq!(published["diagnostics"].as_array().unwrap().len(), 1);
    c.change(
        &file,
        4,
        json!([{ "range": range(4, 4, 4, 26), "text": "drop(conn)" }]),
    );
    let published = c.diagnostics(&file);
    assert_eq!(published["version"], 4);
    assert_eq!(published["diagnostics"], json!([]));

    // Back to the leak, then closed: its diagnostics are cleared.
    c.change(&file, 5, json!([{ "text": LEAK }]));
    assert_eq!(
        c.diagnostics(&file)["diagnostics"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": file } }),
    );
    assert_eq!(c.diagnostics(&file)["diagnostics"], json!([]));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn snippet_clients_get_the_reason_as_a_placeholder() {
    let (_tmp, root) = workspace(&[]);
    let file = uri(&root.join("src/lock.rs"));
    let mut c = Client::start(&root);
    c.initialize(
        &root,
        json!({ "workspace": { "workspaceEdit": {
            "documentChanges": true, "snippetEditSupport": true,
        } } }),
    );
    // Tabs, and a file that is not on disk yet.
    let text = LEAK.replace("    ", "\t");
    c.open(&file, &text);
    let published = c.diagnostics(&file);
    let d = published["diagnostics"][0].clone();
    assert_eq!(d["code"], "forgotten-connection");
    let actions = code_actions(&mut c, &file, &d);
    let change = &actions[0]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"], json!({ "uri": file, "version": 1 }));
    assert_eq!(
        change["edits"],
        json!([{
            "range": range(4, 0, 4, 0),
            "snippet": {
                "kind": "snippet",
                "value": "\t// connlint: allow(forgotten-connection) ${1:reason}\n",
            },
        }])
    );
    assert_eq!(c.shutdown(), 0);
}

const DB: &str = "\
use sqlx::PgPool;

pub async fn load_user(pool: &PgPool, id: i64) -> Result<String, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let row: (String,) = sqlx::query_as(\"SELECT name FROM users WHERE id = $1\")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.0)
}
";

const DB_NO_ACQUIRE: &str = "\
pub async fn load_user(_pool: &sqlx::PgPool, id: i64) -> Result<String, sqlx::Error> {
    let name = crate::cache::lookup(id).await;
    Ok(name.unwrap_or_else(|| id.to_string()))
}
";

const HANDLER: &str = "\
use sqlx::PgPool;

use crate::db;

pub async fn rename(pool: &PgPool, id: i64) -> Result<String, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query(\"UPDATE users SET name = 'x' WHERE id = $1\")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let name = db::load_user(pool, id).await?;
    Ok(name)
}
";

#[test]
fn a_helper_defined_in_another_file_on_disk_is_known() {
    let (_tmp, root) = workspace(&[
        ("src/lib.rs", "pub mod db;\npub mod handlers;\n"),
        ("src/db.rs", DB),
    ]);
    // The handler is a new buffer; only db.rs says that `load_user` takes a connection.
    let file = uri(&root.join("src/handlers.rs"));
    let mut c = Client::start(&root);
    c.initialize(&root, json!({}));
    c.open(&file, HANDLER);
    let published = c.diagnostics(&file);
    let diags = published["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["code"], "nested-acquire");
    assert_eq!(diags[0]["range"]["start"]["line"], 10);

    // db.rs changes on disk (another tool, a branch switch): the client says so, and the
    // helper no longer acquires. What is left is `conn` held across an await that does not
    // use it.
    write(&root, "src/db.rs", DB_NO_ACQUIRE);
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&root.join("src/db.rs")), "type": 2 }] }),
    );
    let published = c.diagnostics(&file);
    let codes: Vec<&Value> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, [&json!("held-across-await")]);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn configuration_sets_severity_and_is_reloaded_and_a_bad_one_is_shown() {
    let (_tmp, root) = workspace(&[(
        "connlint.toml",
        "[rules]\nforgotten-connection = \"warn\"\n",
    )]);
    let file = uri(&root.join("src/lock.rs"));
    let config = uri(&root.join("connlint.toml"));
    let mut c = Client::start(&root);
    c.initialize(
        &root,
        json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } }),
    );
    // The server asks to be told about configuration and Rust files changing.
    let reg = c.wait("registerCapability", |m| {
        m["method"] == "client/registerCapability"
    });
    let watchers = reg["params"]["registrations"][0]["registerOptions"]["watchers"].to_string();
    assert!(
        watchers.contains("**/connlint.toml") && watchers.contains("**/*.rs"),
        "{watchers}"
    );

    c.open(&file, LEAK);
    let published = c.diagnostics(&file);
    assert_eq!(
        published["diagnostics"][0]["severity"], 2,
        "warning, from connlint.toml"
    );

    // The rule switched off.
    write(
        &root,
        "connlint.toml",
        "[rules]\nforgotten-connection = \"off\"\n",
    );
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": config, "type": 2 }] }),
    );
    assert_eq!(c.diagnostics(&file)["diagnostics"], json!([]));

    // A broken configuration: an error message, the previous configuration stays, and the
    // server goes on.
    write(
        &root,
        "connlint.toml",
        "[rules]\nforgoten-connection = \"off\"\n",
    );
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": config, "type": 2 }] }),
    );
    let shown = c.wait("showMessage", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], 1, "an error");
    let text = shown["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("unknown rule `forgoten-connection`"),
        "{text}"
    );
    assert_eq!(c.diagnostics(&file)["diagnostics"], json!([]));

    // Fixed and saved in the editor: didSave reloads it too. Back to the default level.
    write(&root, "connlint.toml", "[rules]\n");
    c.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": config } }),
    );
    let published = c.diagnostics(&file);
    assert_eq!(published["diagnostics"][0]["severity"], 1);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_broken_configuration_at_start_is_shown_and_defaults_apply() {
    let (_tmp, root) = workspace(&[("connlint.toml", "tests = 3\n")]);
    let file = uri(&root.join("src/lock.rs"));
    let mut c = Client::start(&root);
    c.initialize(&root, json!({}));
    let shown = c.wait("showMessage", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], 1);
    assert!(shown["params"]["message"]
        .as_str()
        .unwrap()
        .contains("connlint.toml"));
    c.open(&file, LEAK);
    assert_eq!(c.diagnostics(&file)["diagnostics"][0]["severity"], 1);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn explain_opens_the_rule_doc_or_shows_it_as_a_message() {
    let doc = connlint::rules::doc("held-across-await").unwrap();
    let (_tmp, root) = workspace(&[]);
    let explain = json!({ "command": "connlint.explain", "arguments": ["held-across-await"] });

    // A client that can show documents gets the doc opened in the editor.
    let mut c = Client::start(&root);
    c.initialize(
        &root,
        json!({ "window": { "showDocument": { "support": true } } }),
    );
    let resp = c.request("workspace/executeCommand", explain.clone());
    assert_eq!(resp["result"], Value::Null, "{resp}");
    let show = c.wait("showDocument", |m| m["method"] == "window/showDocument");
    let shown = show["params"]["uri"].as_str().unwrap();
    let path = shown.strip_prefix("file://").unwrap();
    assert!(path.ends_with("/held-across-await.md"), "{shown}");
    assert_eq!(std::fs::read_to_string(path).unwrap(), doc);
    assert_eq!(show["params"]["takeFocus"], true);
    // The client answers; the server takes it in stride.
    c.send(json!({ "jsonrpc": "2.0", "id": show["id"], "result": { "success": true } }));
    let bad = c.request(
        "workspace/executeCommand",
        json!({ "command": "connlint.explain", "arguments": ["no-such-rule"] }),
    );
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-rule"));
    assert_eq!(c.shutdown(), 0);

    // Others get it as a message.
    let mut c = Client::start(&root);
    c.initialize(&root, json!({}));
    c.request("workspace/executeCommand", explain);
    let shown = c.wait("showMessage", |m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], 3, "info");
    assert_eq!(shown["params"]["message"], doc);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let (_tmp, root) = workspace(&[]);
    let mut c = Client::start(&root);
    c.initialize(&root, json!({}));
    let unknown = c.request("textDocument/hover", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "method not found");
    c.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(s) = c.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
}

/// Keystroke-to-diagnostics time on a 1,000-line buffer (50 database functions), measured as
/// a client sees it: from sending `didChange` to receiving its `publishDiagnostics`. A
/// measurement, not a check: run it in release with
/// `cargo test --release --test server -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement; run by hand in release"]
fn measure_keystroke_to_diagnostics() {
    let mut text = String::from("use sqlx::PgPool;\n\n");
    for i in 0..50 {
        text.push_str(&format!(
            "pub async fn handler_{i}(pool: &PgPool, id: i64) -> Result<i64, sqlx::Error> {{\n\
             \x20   let mut conn = pool.acquire().await?;\n\
             \x20   let row: (i64,) = sqlx::query_as(\"SELECT n FROM t WHERE id = $1\")\n\
             \x20       .bind(id)\n\
             \x20       .fetch_one(&mut *conn)\n\
             \x20       .await?;\n\
             \x20   let mut total = row.0;\n\
             \x20   for k in 0..3 {{\n\
             \x20       total += k;\n\
             \x20   }}\n\
             \x20   if total > 10 {{\n\
             \x20       drop(conn);\n\
             \x20       return Ok(total);\n\
             \x20   }}\n\
             \x20   std::mem::forget(conn);\n\
             \x20   // padding\n\
             \x20   // padding\n\
             \x20   // padding\n\
             \x20   Ok(total)\n\
             }}\n"
        ));
    }
    assert!(text.lines().count() >= 1000);
    let (_tmp, root) = workspace(&[("src/lib.rs", "pub mod big;\n")]);
    let file = uri(&root.join("src/big.rs"));
    let mut c = Client::start(&root);
    c.initialize(&root, json!({}));
    c.open(&file, &text);
    let first = c.diagnostics(&file);
    let n = first["diagnostics"].as_array().unwrap().len();
    let mut times = Vec::new();
    for v in 2..32 {
        let started = Instant::now();
        // Type one character into a comment.
        c.change(
            &file,
            v,
            json!([{ "range": range(17, 14, 17, 14), "text": "x" }]),
        );
        let got = c.diagnostics(&file);
        times.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(got["version"], v);
        assert_eq!(got["diagnostics"].as_array().unwrap().len(), n);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "1,000-line buffer, {n} diagnostics: keystroke to diagnostics median {:.1} ms, min {:.1} ms, max {:.1} ms ({} edits)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
    assert_eq!(c.shutdown(), 0);
}
