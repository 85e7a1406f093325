//! Crate-local `macro_rules!` expanded by substitution: enough of macro-by-example for the
//! macros real code wraps around a pool (`with_connection!(pool, |conn| { .. })`,
//! `with_transaction!`), so the flow sees the acquisition inside and what the caller's code
//! does while the connection is held.
//!
//! Matching follows the reference's rules where they matter here: fragments are parsed
//! greedily (`$e:expr` takes the longest expression), repetitions take as many rounds as
//! match, and the first rule that matches the whole input wins. Tokens from the definition
//! take the span of the call; tokens from the call keep their own.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use rustc_hash::FxHashMap;
use std::sync::Arc;
use syn::parse::{ParseStream, Parser};

/// How deep expansions may nest (a macro that calls itself stops here).
const MAX_DEPTH: usize = 8;

/// The rules of the crate's other macros by name, for calls inside an expansion.
pub type Definitions<'a> = &'a dyn Fn(&str) -> Option<Arc<str>>;

/// The tokens `name!(args)` expands to under `rules` (the text of the definition's group),
/// with crate-local macro calls inside expanded too; `None` when no rule matches.
/// Locals of the macro that clash with the caller's names are renamed `x_in_name`.
pub fn expand(
    name: &str,
    rules: &str,
    args: TokenStream,
    site: Span,
    defs: Definitions,
) -> Option<TokenStream> {
    expand_at(name, rules, args, site, defs, 0)
}

fn expand_at(
    name: &str,
    rules: &str,
    args: TokenStream,
    site: Span,
    defs: Definitions,
    depth: usize,
) -> Option<TokenStream> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let rules = parse_rules(rules.parse().ok()?);
    let input: Vec<TokenTree> = args.into_iter().collect();
    let (body, binds) = rules.iter().find_map(|r| {
        let mut binds = Bindings::default();
        (match_seq(&r.matcher, &input, &mut binds) == Some(input.len())).then_some((r, binds))
    })?;
    let hygiene = Hygiene {
        renamed: clashing_locals(&body.body, &binds, name),
        site,
    };
    let out = transcribe(body.body.clone(), &binds, &mut Vec::new(), &hygiene);
    Some(expand_calls(out, site, defs, depth))
}

/// What transcription does to the definition's own tokens: they take the call's span, and
/// its local bindings that share a name with an identifier of the caller's tokens are renamed
/// (`let tx = &mut tx;` with the caller's `tx` must not shadow the macro's own `tx`).
struct Hygiene {
    renamed: FxHashMap<String, String>,
    site: Span,
}

/// The definition's local bindings (`let x`, `let mut x`, closure parameters `|x|`) whose
/// names also appear among the tokens the caller passed in, with their new names.
fn clashing_locals(
    body: &TokenStream,
    binds: &Bindings,
    macro_name: &str,
) -> FxHashMap<String, String> {
    let mut caller = rustc_hash::FxHashSet::default();
    for b in binds.values() {
        caller_idents(b, &mut caller);
    }
    let mut locals = Vec::new();
    local_bindings(body.clone(), &mut locals);
    locals
        .into_iter()
        .filter(|l| caller.contains(l))
        .map(|l| {
            let new = format!("{l}_in_{macro_name}");
            (l, new)
        })
        .collect()
}

fn caller_idents(b: &Binding, out: &mut rustc_hash::FxHashSet<String>) {
    fn scan(tokens: &[TokenTree], out: &mut rustc_hash::FxHashSet<String>) {
        for t in tokens {
            match t {
                TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                TokenTree::Group(g) => scan(&g.stream().into_iter().collect::<Vec<_>>(), out),
                _ => {}
            }
        }
    }
    match b {
        Binding::One(ts, _) => scan(ts, out),
        Binding::Seq(rounds) => rounds.iter().for_each(|r| caller_idents(r, out)),
    }
}

/// Names the transcriber binds itself: after `let` / `let mut`, and closure parameters.
fn local_bindings(body: TokenStream, out: &mut Vec<String>) {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let is = |t: Option<&TokenTree>, w: &str| matches!(t, Some(TokenTree::Ident(i)) if i == w);
    let bar = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == '|');
    let dollar =
        |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == '$');
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Ident(name) if !dollar(i.checked_sub(1).and_then(|j| tokens.get(j))) => {
                let prev = i.checked_sub(1).and_then(|j| tokens.get(j));
                let before = i.checked_sub(2).and_then(|j| tokens.get(j));
                let bound = is(prev, "let")
                    || (is(prev, "mut") && is(before, "let"))
                    || (bar(prev)
                        && !matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '.'));
                if bound && name != "mut" && name != "_" {
                    out.push(name.to_string());
                }
            }
            TokenTree::Group(g) => local_bindings(g.stream(), out),
            _ => {}
        }
    }
}

/// One arm of a `macro_rules!`: `(matcher) => { transcriber }`.
struct Rule {
    matcher: Vec<Pat>,
    body: TokenStream,
}

/// A matcher element.
enum Pat {
    /// A token matched by its text.
    Token(String),
    Group(Delimiter, Vec<Pat>),
    Fragment(String, Frag),
    /// `$( .. ) sep? op`
    Repeat {
        inner: Vec<Pat>,
        sep: Option<String>,
        op: char,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Frag {
    Expr,
    Ident,
    Tt,
    Ty,
    Path,
    Pat,
    Stmt,
    Block,
    Item,
    Literal,
    Lifetime,
    Meta,
    Vis,
}

impl Frag {
    fn of(kind: &str) -> Frag {
        match kind {
            "expr" | "expr_2021" => Frag::Expr,
            "ident" => Frag::Ident,
            "ty" => Frag::Ty,
            "path" => Frag::Path,
            "pat" | "pat_param" => Frag::Pat,
            "stmt" => Frag::Stmt,
            "block" => Frag::Block,
            "item" => Frag::Item,
            "literal" => Frag::Literal,
            "lifetime" => Frag::Lifetime,
            "meta" => Frag::Meta,
            "vis" => Frag::Vis,
            _ => Frag::Tt,
        }
    }
}

/// What a matcher bound: a fragment's tokens, or one set of bindings per repetition round.
enum Binding {
    One(Vec<TokenTree>, Frag),
    Seq(Vec<Binding>),
}

type Bindings = FxHashMap<String, Binding>;

/// The rules of a definition's group (`{ (..) => { .. }; .. }`).
fn parse_rules(tokens: TokenStream) -> Vec<Rule> {
    let mut tokens: Vec<TokenTree> = tokens.into_iter().collect();
    if let [TokenTree::Group(g)] = tokens.as_slice() {
        tokens = g.stream().into_iter().collect();
    }
    let mut rules = Vec::new();
    let mut i = 0;
    while i + 3 < tokens.len() {
        // (matcher) => { body } ;?
        match (
            &tokens[i],
            &tokens[i + 1],
            &tokens[i + 2],
            tokens.get(i + 3),
        ) {
            (
                TokenTree::Group(m),
                TokenTree::Punct(a),
                TokenTree::Punct(b),
                Some(TokenTree::Group(body)),
            ) if a.as_char() == '=' && b.as_char() == '>' => {
                rules.push(Rule {
                    matcher: parse_matcher(m.stream()),
                    body: body.stream(),
                });
                i += 4;
            }
            _ => i += 1,
        }
    }
    rules
}

fn parse_matcher(tokens: TokenStream) -> Vec<Pat> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                let kind = match (tokens.get(i + 2), tokens.get(i + 3)) {
                    (Some(TokenTree::Punct(c)), Some(TokenTree::Ident(k)))
                        if c.as_char() == ':' =>
                    {
                        i += 2;
                        Frag::of(&k.to_string())
                    }
                    _ => Frag::Tt,
                };
                out.push(Pat::Fragment(name.to_string(), kind));
                i += 2;
            }
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let (sep, op, used) = repetition_tail(&tokens[i + 2..]);
                out.push(Pat::Repeat {
                    inner: parse_matcher(g.stream()),
                    sep: sep.map(|t| t.to_string()),
                    op,
                });
                i += 2 + used;
            }
            (TokenTree::Group(g), _) => {
                out.push(Pat::Group(g.delimiter(), parse_matcher(g.stream())));
                i += 1;
            }
            (t, _) => {
                out.push(Pat::Token(t.to_string()));
                i += 1;
            }
        }
    }
    out
}

/// After `$( .. )`: an optional separator and the operator (`*`, `+`, `?`), and how many
/// tokens they took.
fn repetition_tail(rest: &[TokenTree]) -> (Option<&TokenTree>, char, usize) {
    let op = |t: Option<&TokenTree>| match t {
        Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+' | '?') => Some(p.as_char()),
        _ => None,
    };
    match op(rest.first()) {
        Some(c) => (None, c, 1),
        None => match op(rest.get(1)) {
            Some(c) => (rest.first(), c, 2),
            None => (None, '*', 0),
        },
    }
}

/// Matches `pats` against a prefix of `input`; the number of tokens taken.
fn match_seq(pats: &[Pat], input: &[TokenTree], binds: &mut Bindings) -> Option<usize> {
    let mut at = 0;
    for pat in pats {
        let rest = &input[at..];
        at += match pat {
            Pat::Token(text) => match rest.first() {
                Some(t) if !matches!(t, TokenTree::Group(_)) && t.to_string() == *text => 1,
                _ => return None,
            },
            Pat::Group(delim, inner) => match rest.first() {
                Some(TokenTree::Group(g)) if g.delimiter() == *delim => {
                    let tokens: Vec<TokenTree> = g.stream().into_iter().collect();
                    if match_seq(inner, &tokens, binds)? != tokens.len() {
                        return None;
                    }
                    1
                }
                _ => return None,
            },
            Pat::Fragment(name, kind) => {
                let n = fragment_len(*kind, rest)?;
                binds.insert(name.clone(), Binding::One(rest[..n].to_vec(), *kind));
                n
            }
            Pat::Repeat { inner, sep, op } => {
                match_repeat(inner, sep.as_deref(), *op, rest, binds)?
            }
        };
    }
    Some(at)
}

fn match_repeat(
    inner: &[Pat],
    sep: Option<&str>,
    op: char,
    input: &[TokenTree],
    binds: &mut Bindings,
) -> Option<usize> {
    let mut rounds: Vec<Bindings> = Vec::new();
    let mut at = 0;
    loop {
        if op == '?' && rounds.len() == 1 {
            break;
        }
        let mut start = at;
        if let (Some(sep), false) = (sep, rounds.is_empty()) {
            match input.get(at) {
                Some(t) if t.to_string() == sep => start += 1,
                _ => break,
            }
        }
        let mut round = Bindings::default();
        match match_seq(inner, &input[start..], &mut round) {
            Some(n) if n > 0 => {
                at = start + n;
                rounds.push(round);
            }
            _ => break,
        }
    }
    if op == '+' && rounds.is_empty() {
        return None;
    }
    let mut names = Vec::new();
    fragment_names(inner, &mut names);
    for name in names {
        let seq = rounds
            .iter_mut()
            .map(|r| r.remove(&name).unwrap_or(Binding::Seq(Vec::new())))
            .collect();
        binds.insert(name, Binding::Seq(seq));
    }
    Some(at)
}

fn fragment_names(pats: &[Pat], out: &mut Vec<String>) {
    for p in pats {
        match p {
            Pat::Fragment(name, _) => out.push(name.clone()),
            Pat::Group(_, inner) | Pat::Repeat { inner, .. } => fragment_names(inner, out),
            Pat::Token(_) => {}
        }
    }
}

/// How many tokens a fragment of `kind` takes from the start of `input`: one token for
/// `ident`, `tt` and friends, the longest parse for `expr`, `ty`, `pat` and the rest.
fn fragment_len(kind: Frag, input: &[TokenTree]) -> Option<usize> {
    let first = input.first();
    let punct =
        |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
    match kind {
        Frag::Tt => first.map(|_| 1),
        Frag::Ident => matches!(first, Some(TokenTree::Ident(_))).then_some(1),
        Frag::Block => {
            matches!(first, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace)
                .then_some(1)
        }
        Frag::Lifetime => {
            (punct(first, '\'') && matches!(input.get(1), Some(TokenTree::Ident(_)))).then_some(2)
        }
        Frag::Literal => match first {
            Some(TokenTree::Literal(_)) => Some(1),
            Some(TokenTree::Ident(i)) if i == "true" || i == "false" => Some(1),
            _ if punct(first, '-') && matches!(input.get(1), Some(TokenTree::Literal(_))) => {
                Some(2)
            }
            _ => None,
        },
        _ => {
            let tokens: TokenStream = input.iter().cloned().collect();
            let parser = |s: ParseStream| -> syn::Result<usize> {
                match kind {
                    Frag::Expr => drop(s.parse::<syn::Expr>()?),
                    Frag::Ty => drop(s.parse::<syn::Type>()?),
                    Frag::Path => drop(s.parse::<syn::Path>()?),
                    Frag::Pat => drop(syn::Pat::parse_multi_with_leading_vert(s)?),
                    Frag::Stmt => drop(s.parse::<syn::Stmt>()?),
                    Frag::Item => drop(s.parse::<syn::Item>()?),
                    Frag::Meta => drop(s.parse::<syn::Meta>()?),
                    _ => drop(s.parse::<syn::Visibility>()?),
                }
                let rest: TokenStream = s.parse()?;
                Ok(rest.into_iter().count())
            };
            let n = input.len() - parser.parse2(tokens).ok()?;
            (n > 0 || kind == Frag::Vis).then_some(n)
        }
    }
}

/// The transcriber with `$name` replaced by what it bound (in the repetition round `round`),
/// and the definition's own tokens given the call's span.
fn transcribe(
    body: TokenStream,
    binds: &Bindings,
    round: &mut Vec<usize>,
    h: &Hygiene,
) -> TokenStream {
    let site = h.site;
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                i += 2;
                if name == "crate" {
                    out.extend([TokenTree::Ident(Ident::new("crate", site))]);
                    continue;
                }
                match binds.get(&name.to_string()).map(|b| in_round(b, round)) {
                    Some(Binding::One(ts, Frag::Expr)) => {
                        // An expression keeps its precedence where it lands (`$a * 2`).
                        let mut g =
                            Group::new(Delimiter::Parenthesis, ts.iter().cloned().collect());
                        g.set_span(ts.first().map_or(site, TokenTree::span));
                        out.extend([TokenTree::Group(g)]);
                    }
                    Some(Binding::One(ts, _)) => out.extend(ts.iter().cloned()),
                    _ => out.extend([respan(&tokens[i - 2], site), respan(&tokens[i - 1], site)]),
                }
            }
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let (sep, _, used) = repetition_tail(&tokens[i + 2..]);
                i += 2 + used;
                let rounds = rounds_of(g.stream(), binds, round);
                for k in 0..rounds {
                    if k > 0 {
                        out.extend(sep.map(|s| respan(s, site)));
                    }
                    round.push(k);
                    out.extend(transcribe(g.stream(), binds, round, h));
                    round.pop();
                }
            }
            (TokenTree::Group(g), _) => {
                let mut inner = Group::new(g.delimiter(), transcribe(g.stream(), binds, round, h));
                inner.set_span(site);
                out.extend([TokenTree::Group(inner)]);
                i += 1;
            }
            (TokenTree::Ident(id), _) if h.renamed.contains_key(&id.to_string()) => {
                let new = &h.renamed[&id.to_string()];
                out.extend([TokenTree::Ident(Ident::new(new, site))]);
                i += 1;
            }
            (t, _) => {
                out.extend([respan(t, site)]);
                i += 1;
            }
        }
    }
    out
}

/// A binding as seen in the current repetition round.
fn in_round<'b>(mut b: &'b Binding, round: &[usize]) -> &'b Binding {
    for &k in round {
        match b {
            Binding::Seq(rounds) => match rounds.get(k) {
                Some(r) => b = r,
                None => return b,
            },
            Binding::One(..) => return b,
        }
    }
    b
}

/// How many rounds a `$( .. )` of the transcriber repeats: the rounds its variables bound.
fn rounds_of(body: TokenStream, binds: &Bindings, round: &[usize]) -> usize {
    let mut names = Vec::new();
    variables(body, &mut names);
    names
        .iter()
        .filter_map(|n| match binds.get(n).map(|b| in_round(b, round)) {
            Some(Binding::Seq(rounds)) => Some(rounds.len()),
            _ => None,
        })
        .min()
        .unwrap_or(0)
}

fn variables(body: TokenStream, out: &mut Vec<String>) {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        match (t, tokens.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                out.push(name.to_string())
            }
            (TokenTree::Group(g), _) => variables(g.stream(), out),
            _ => {}
        }
    }
}

fn respan(t: &TokenTree, site: Span) -> TokenTree {
    let mut t = t.clone();
    if let TokenTree::Group(g) = &t {
        let mut inner = Group::new(
            g.delimiter(),
            g.stream().into_iter().map(|t| respan(&t, site)).collect(),
        );
        inner.set_span(site);
        return TokenTree::Group(inner);
    }
    t.set_span(site);
    t
}

/// Expands calls of crate-local macros inside an expansion (`$crate::with_connection!(..)`
/// inside `with_connection_or_panic!`), as blocks.
fn expand_calls(tokens: TokenStream, site: Span, defs: Definitions, depth: usize) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let (
            TokenTree::Ident(name),
            Some(TokenTree::Punct(bang)),
            Some(TokenTree::Group(args)),
        ) = (&tokens[i], tokens.get(i + 1), tokens.get(i + 2))
        {
            let name = name.to_string();
            let rules = (bang.as_char() == '!' && name != "macro_rules")
                .then(|| defs(&name))
                .flatten();
            if let Some(expanded) =
                rules.and_then(|r| expand_at(&name, &r, args.stream(), site, defs, depth + 1))
            {
                drop_path_prefix(&mut out);
                let mut g = Group::new(Delimiter::Brace, expanded);
                g.set_span(site);
                out.push(TokenTree::Group(g));
                i += 3;
                continue;
            }
        }
        out.push(match &tokens[i] {
            TokenTree::Group(g) => {
                let mut inner =
                    Group::new(g.delimiter(), expand_calls(g.stream(), site, defs, depth));
                inner.set_span(g.span());
                TokenTree::Group(inner)
            }
            t => t.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// Removes the `crate::` (or `self::a::`) path written before an expanded macro's name.
fn drop_path_prefix(out: &mut Vec<TokenTree>) {
    loop {
        let n = out.len();
        let colons = n >= 3
            && matches!(&out[n - 1], TokenTree::Punct(p) if p.as_char() == ':')
            && matches!(&out[n - 2], TokenTree::Punct(p) if p.as_char() == ':')
            && matches!(&out[n - 3], TokenTree::Ident(_));
        if !colons {
            return;
        }
        out.truncate(n - 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rules: &str, args: &str) -> Option<String> {
        let defs = |_: &str| None;
        let out = expand("m", rules, args.parse().unwrap(), Span::call_site(), &defs)?;
        Some(out.to_string())
    }

    #[test]
    fn substitutes_fragments_of_the_first_matching_rule() {
        let rules = "{ ($pool:expr, |$c:ident| $body:block) => {{ let mut conn = $pool.get().await?; let $c = &mut *conn; async { $body }.await }}; }";
        let out = run(rules, "&state.pool, |db| { query(db).await }").unwrap();
        assert_eq!(
            out,
            "{ let mut conn = (& state . pool) . get () . await ?; let db = & mut * conn ; async { { query (db) . await } } . await }"
        );
    }

    #[test]
    fn repetitions_with_separators_and_trailing_commas() {
        let rules = "{ ($($x:expr),* $(,)?) => { [$($x * 2),*] }; }";
        assert_eq!(run(rules, "1, a + b,").unwrap(), "[(1) * 2 ,(a + b) * 2]");
        assert_eq!(run(rules, "").unwrap(), "[]");
    }

    #[test]
    fn locals_of_the_macro_do_not_capture_the_callers_names() {
        let rules = "{ ($pool:expr, $t:ident, $body:block) => {{ let mut tx = $pool.begin().await?; let $t = &mut tx; let r = $body; tx.commit().await?; r }}; }";
        let out = run(rules, "pool, tx, { use_it(tx) }").unwrap();
        assert_eq!(
            out,
            "{ let mut tx_in_m = (pool) . begin () . await ?; let tx = & mut tx_in_m ; let r = { use_it (tx) } ; tx_in_m . commit () . await ?; r }"
        );
        // Without a clash the macro's names stay as written.
        let out = run(rules, "pool, t, { use_it(t) }").unwrap();
        assert!(out.starts_with("{ let mut tx = (pool)"), "{out}");
    }

    #[test]
    fn later_rules_and_no_match() {
        let rules = "{ (one $a:ident) => { $a }; (two $a:ident $b:ident) => { $b }; }";
        assert_eq!(run(rules, "two x y").unwrap(), "y");
        assert_eq!(run(rules, "three x"), None);
    }

    #[test]
    fn nested_crate_macros_expand_and_recursion_stops() {
        let inner: Arc<str> = "{ ($p:expr) => { $p.get() }; }".into();
        let looping: Arc<str> = "{ ($p:expr) => { again!($p) }; }".into();
        let defs = move |n: &str| match n {
            "inner" => Some(inner.clone()),
            "again" => Some(looping.clone()),
            _ => None,
        };
        let outer = "{ ($p:expr) => { $crate::inner!($p) }; }";
        let out = expand(
            "outer",
            outer,
            "pool".parse().unwrap(),
            Span::call_site(),
            &defs,
        )
        .unwrap();
        assert_eq!(out.to_string(), "{ ((pool)) . get () }");
        let out = expand(
            "again",
            "{ ($p:expr) => { again!($p) }; }",
            "x".parse().unwrap(),
            Span::call_site(),
            &defs,
        );
        // The innermost call stays unexpanded once the depth runs out.
        assert!(out.unwrap().to_string().contains("again !"));
    }
}
