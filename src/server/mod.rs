//! `connlint server`: a Language Server over stdio, so every LSP editor shows findings as you
//! type, with no per-editor glue.
//!
//! * [`protocol`]: the message loop (initialize, document sync, code actions, commands,
//!   watched files, shutdown);
//! * [`documents`]: the open buffers, their edits, and LSP positions and URIs;
//! * [`analysis`]: the one seam to the engine (what is checked, and how);
//! * [`diagnostics`]: findings as LSP diagnostics;
//! * [`code_actions`]: "suppress with a reason" and "explain this rule";
//! * [`settings`]: the configuration (connlint.toml / Cargo metadata) and its reloads.

pub mod analysis;
mod code_actions;
mod diagnostics;
mod documents;
mod protocol;
mod settings;

pub use analysis::Analysis;
pub use settings::Settings;

/// Serves one client over stdin/stdout until it says `exit`. Returns the process exit code:
/// 0 after `shutdown` then `exit`, 1 otherwise (as the protocol asks), 2 on a transport error.
pub fn run() -> u8 {
    let (connection, io) = lsp_server::Connection::stdio();
    let code = match protocol::serve(&connection) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("connlint server: {e}");
            2
        }
    };
    // The writer thread ends when the last sender is gone.
    drop(connection);
    match io.join() {
        Ok(()) => code,
        Err(e) => {
            eprintln!("connlint server: {e}");
            code.max(1)
        }
    }
}
