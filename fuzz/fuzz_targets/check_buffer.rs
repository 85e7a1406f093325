//! The whole check of one buffer: the engine (prefilter, parse, index, flow, rules), then the
//! configuration's suppressions and levels and every report format, as `connlint check
//! --stdin-filename` runs them. A panic anywhere, or an internal error the engine caught,
//! is a crash.

#![no_main]

use connlint::config::Config;
use connlint::diagnostic::PARSE_ERROR;
use connlint::engine::{self, Input};
use connlint::report::{self, Format, Hidden, Style};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    // Editors send text; a file on disk that is not UTF-8 never reaches the parser.
    let text = String::from_utf8_lossy(data).into_owned();
    let inputs = [Input {
        path: PathBuf::from("src/fuzz.rs"),
        text: Some(text),
    }];
    let mut outcome = engine::check(&inputs, &|_| true);
    let cfg = Config::default_at(PathBuf::from("."));
    connlint::configured::apply(&cfg, &mut outcome, &inputs, &|_| true);
    for f in &outcome.findings {
        assert!(
            !(f.rule == PARSE_ERROR && f.message.contains("internal error")),
            "{}",
            f.message
        );
    }
    let style = Style {
        color: false,
        quiet: false,
        hidden: Hidden::default(),
        srcroot: None,
    };
    for format in [
        Format::Human,
        Format::Short,
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        report::render(format, &outcome, &style);
    }
});
