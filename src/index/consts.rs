//! Small constant evaluation for pool options: integer literals and a little arithmetic,
//! `Duration` constructors, `None`, names of local `let`s and of crate-local `const`/`static`
//! items (resolved like other names, through the scope they are written in), and the non-test
//! branch of `if cfg!(test) { .. } else { .. }`. Anything else is unknown: never a guess.

use super::{CrateIndex, Place, Where};
use crate::model::{BinOp, BlockKind, Expr, ExprId, FileModel, Lit, MacroArgs, Stmt};

/// A constant as written, owned (the index keeps those of `const` items).
#[derive(Debug, Clone, PartialEq)]
pub enum ConstExpr {
    Int(u64),
    /// `None`: no limit.
    Unbounded,
    /// A name: a local `let`, a `const` or `static` item.
    Path(Vec<String>),
    Bin(BinOp, Box<ConstExpr>, Box<ConstExpr>),
    /// A `Duration` constructor: the argument times `ms` milliseconds, divided by `div`.
    Duration {
        arg: Box<ConstExpr>,
        ms: u128,
        div: u128,
    },
    /// `Duration::new(secs, nanos)`.
    DurationNew(Box<ConstExpr>, Box<ConstExpr>),
    Unknown,
}

/// The value of a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstVal {
    Int(u64),
    /// A duration, in milliseconds.
    Millis(u128),
    /// `None`: no limit.
    Unbounded,
}

/// `Duration` constructors: milliseconds per unit, as (multiply, divide).
const DURATION_UNITS: &[(&str, u128, u128)] = &[
    ("from_secs", 1000, 1),
    ("from_millis", 1, 1),
    ("from_micros", 1, 1000),
    ("from_nanos", 1, 1_000_000),
    ("from_mins", 60_000, 1),
    ("from_hours", 3_600_000, 1),
];

impl ConstExpr {
    /// The constant an expression of `m` writes (`Unknown` when it is not one).
    pub fn of(m: &FileModel, e: ExprId) -> ConstExpr {
        match m.expr(e) {
            Expr::Lit(Lit::Int(i)) => ConstExpr::Int(u64::from(i)),
            Expr::Path { .. } if m.is_ident(e, "None") => ConstExpr::Unbounded,
            Expr::Path { segs, qself: false } => ConstExpr::Path(m.path_strings(segs)),
            Expr::Binary { op, left, right } if op != BinOp::Other && op != BinOp::Compound => {
                ConstExpr::Bin(
                    op,
                    Box::new(Self::of(m, left)),
                    Box::new(Self::of(m, right)),
                )
            }
            Expr::Cast(inner) => Self::of(m, inner),
            Expr::Call { func, args } if m.is_ident(func, "Some") && args.len() == 1 => {
                Self::of(m, m.nth_expr(args, 0))
            }
            Expr::Call { func, args } => {
                let Expr::Path { segs, .. } = m.expr(func) else {
                    return ConstExpr::Unknown;
                };
                let arg =
                    |i: usize| (i < args.len()).then(|| Box::new(Self::of(m, m.nth_expr(args, i))));
                match (m.last(segs), args.len()) {
                    (Some("new"), 2) if m.path_strings(segs).iter().any(|s| s == "Duration") => {
                        ConstExpr::DurationNew(arg(0).expect("two"), arg(1).expect("two"))
                    }
                    (Some(unit), 1) => DURATION_UNITS.iter().find(|(u, ..)| *u == unit).map_or(
                        ConstExpr::Unknown,
                        |(_, ms, div)| ConstExpr::Duration {
                            arg: arg(0).expect("one"),
                            ms: *ms,
                            div: *div,
                        },
                    ),
                    _ => ConstExpr::Unknown,
                }
            }
            // `{ 30 }`: a block of only a tail expression.
            Expr::Block {
                block,
                kind: BlockKind::Plain | BlockKind::Const,
            } => match m.stmts(block).collect::<Vec<_>>().as_slice() {
                [Stmt::Expr { expr, semi: false }] => Self::of(m, *expr),
                _ => ConstExpr::Unknown,
            },
            // `if cfg!(test) { short } else { real }`: what the program runs with.
            Expr::If {
                cond,
                then,
                els: Some(els),
            } => match cfg_test(m, cond) {
                Some(true) => Self::of(m, els),
                Some(false) => Self::of(
                    m,
                    match m.stmts(then).collect::<Vec<_>>().as_slice() {
                        [Stmt::Expr { expr, semi: false }] => *expr,
                        _ => return ConstExpr::Unknown,
                    },
                ),
                None => ConstExpr::Unknown,
            },
            _ => ConstExpr::Unknown,
        }
    }

    /// Its value, with `name` giving the value of each name it uses.
    pub fn eval(&self, name: &dyn Fn(&[String]) -> Option<ConstVal>) -> Option<ConstVal> {
        match self {
            ConstExpr::Int(n) => Some(ConstVal::Int(*n)),
            ConstExpr::Unbounded => Some(ConstVal::Unbounded),
            ConstExpr::Path(segs) => name(segs),
            ConstExpr::Bin(op, l, r) => arith(*op, l.eval(name)?, r.eval(name)?),
            ConstExpr::Duration { arg, ms, div } => match arg.eval(name)? {
                ConstVal::Int(n) => Some(ConstVal::Millis((n as u128).checked_mul(*ms)? / div)),
                _ => None,
            },
            ConstExpr::DurationNew(secs, nanos) => match (secs.eval(name)?, nanos.eval(name)?) {
                (ConstVal::Int(s), ConstVal::Int(n)) => Some(ConstVal::Millis(
                    (s as u128).checked_mul(1000)? + n as u128 / 1_000_000,
                )),
                _ => None,
            },
            ConstExpr::Unknown => None,
        }
    }
}

/// `MAX * 2`, `60 * 1000`, `Duration::from_secs(5) * 2`, `BASE + Duration::from_millis(500)`.
fn arith(op: BinOp, l: ConstVal, r: ConstVal) -> Option<ConstVal> {
    use ConstVal::{Int, Millis};
    let int = |a: u64, b: u64| match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div => a.checked_div(b),
        BinOp::Other | BinOp::Compound => None,
    };
    let ms = |a: u128, b: u128| match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        _ => None,
    };
    match (l, r) {
        (Int(a), Int(b)) => int(a, b).map(Int),
        (Millis(a), Millis(b)) => ms(a, b).map(Millis),
        (Millis(d), Int(n)) | (Int(n), Millis(d)) if op == BinOp::Mul => {
            d.checked_mul(n as u128).map(Millis)
        }
        (Millis(d), Int(n)) if op == BinOp::Div => d.checked_div(n as u128).map(Millis),
        _ => None,
    }
}

/// `cfg!(test)` → `Some(true)`, `cfg!(not(test))` → `Some(false)`, anything else `None`.
fn cfg_test(m: &FileModel, cond: ExprId) -> Option<bool> {
    let Expr::Macro(i) = m.expr(cond) else {
        return None;
    };
    let mac = m.mac(i);
    if m.name(mac.name) != "cfg" {
        return None;
    }
    let MacroArgs::Exprs(l) = mac.args else {
        return None;
    };
    if l.len() != 1 {
        return None;
    }
    let arg = m.nth_expr(l, 0);
    match m.expr(arg) {
        _ if m.is_ident(arg, "test") => Some(true),
        Expr::Call { func, args }
            if m.is_ident(func, "not")
                && args.len() == 1
                && m.is_ident(m.nth_expr(args, 0), "test") =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// A `const` or `static` item's value, where it is defined.
#[derive(Debug)]
pub(super) struct ConstInfo {
    pub place: Place,
    pub value: ConstExpr,
}

/// How deep names may refer to names (`const B: u64 = A * 2;`), against cycles.
const MAX_DEPTH: u8 = 8;

impl CrateIndex {
    /// The value of the `const` or `static` item a path written at `at` denotes
    /// (`MAX_CONNECTIONS`, `config::TIMEOUT_SECS`, `crate::db::POOL_SIZE`).
    pub fn const_value(&self, at: &Where, segs: &[String]) -> Option<ConstVal> {
        self.const_at(at, segs, 0)
    }

    /// Prefilter words for the files that may define constants the indexed code uses but
    /// no indexed file defines: `const NAME` and `static NAME`.
    pub fn const_definition_words(&self) -> Vec<String> {
        let mut names: Vec<&str> = self
            .files
            .iter()
            .flatten()
            .flat_map(|f| f.const_uses.iter())
            .filter(|n| !self.const_names.contains_key(*n))
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .flat_map(|n| [format!("const {n}"), format!("static {n}")])
            .collect()
    }

    fn const_at(&self, at: &Where, segs: &[String], depth: u8) -> Option<ConstVal> {
        if depth > MAX_DEPTH {
            return None;
        }
        let cands = self.const_names.get(segs.last()?)?;
        let c = self.pick(at, segs, cands, |c| self.consts[c as usize].place, false)?;
        let info = &self.consts[c as usize];
        let here = Where {
            file: info.place.file,
            module: info.place.inline,
            ..Where::default()
        };
        info.value
            .eval(&|name| self.const_at(&here, name, depth + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_compose_with_numbers_and_overflow_is_unknown() {
        let secs = |n| ConstExpr::Duration {
            arg: Box::new(ConstExpr::Int(n)),
            ms: 1000,
            div: 1,
        };
        let twice = ConstExpr::Bin(BinOp::Mul, Box::new(secs(5)), Box::new(ConstExpr::Int(2)));
        assert_eq!(twice.eval(&|_| None), Some(ConstVal::Millis(10_000)));
        let sum = ConstExpr::Bin(BinOp::Add, Box::new(secs(1)), Box::new(ConstExpr::Int(2)));
        assert_eq!(sum.eval(&|_| None), None);
        let under = ConstExpr::Bin(
            BinOp::Sub,
            Box::new(ConstExpr::Int(1)),
            Box::new(ConstExpr::Int(2)),
        );
        assert_eq!(under.eval(&|_| None), None);
        let named = ConstExpr::Path(vec!["MAX".into()]);
        assert_eq!(
            named.eval(&|s| (s == ["MAX"]).then_some(ConstVal::Int(7))),
            Some(ConstVal::Int(7))
        );
    }
}
