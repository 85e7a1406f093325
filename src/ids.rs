//! Every id a user can name (in `--select`, `--ignore`, `[rules]`, suppressions): the rules of
//! the catalogue and connlint's own diagnostics.

use crate::diagnostic::{INVALID_SUPPRESSION, PARSE_ERROR, UNUSED_SUPPRESSION};
use crate::rules;

/// Diagnostics that are not rules of the registry but can be given a level, selected and
/// ignored like one.
pub const DIAGNOSTIC_IDS: &[&str] = &[PARSE_ERROR, UNUSED_SUPPRESSION, INVALID_SUPPRESSION];

/// Is `id` a rule id or one of connlint's own diagnostic codes?
pub fn known_id(id: &str) -> bool {
    rules::by_id(id).is_some() || DIAGNOSTIC_IDS.contains(&id)
}

/// Every id a user can name, rules first, one per line, for error messages.
pub fn known_ids_list() -> String {
    rules::all()
        .iter()
        .map(|r| r.info().id)
        .chain(DIAGNOSTIC_IDS.iter().copied())
        .map(|id| format!("  {id}\n"))
        .collect()
}

/// The known id nearest to a misspelt one, if one is close.
pub fn suggestion(id: &str) -> Option<&'static str> {
    rules::all()
        .iter()
        .map(|r| r.info().id)
        .chain(DIAGNOSTIC_IDS.iter().copied())
        .map(|k| (edit_distance(id, k), k))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| k)
}

/// Help for an unknown id: the nearest known id when one is close, else every id.
pub fn unknown_id_help(id: &str) -> String {
    match suggestion(id) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!(
            "`connlint rules` lists the rules; known ids:\n{}",
            known_ids_list().trim_end()
        ),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
