//! Pool options as the code writes them: setter arguments, struct literals of options, and
//! their values as far as constant evaluation reads them (literals and arithmetic, `Duration`
//! constructors, `None` for "no limit", local `let`s, `const`/`static` items, the non-test
//! branch of `if cfg!(test)`).

use super::{Setting, SettingValue};
use crate::index::{ConstExpr, ConstVal};
use crate::model::{Expr, ExprId, FileModel};

/// What the walk knows around an expression of options.
pub(super) struct Eval<'a> {
    /// Does this call return pool options of its own (a crate-local `fn pool_config() ->
    /// PoolConfig`)? Its value then stands for options the reader cannot see.
    pub carries: &'a dyn Fn(ExprId) -> bool,
    /// The value of a name written here: a local `let`, a `const` or `static` item.
    pub name: &'a dyn Fn(&[String]) -> Option<ConstVal>,
}

pub(super) type Carries<'a> = &'a Eval<'a>;

/// The pool options set by an expression given to `name`: a value (`max_connections(5)`), a
/// struct literal of options (`PoolConfig { max_size: 16, timeouts: Timeouts { .. } }`), a
/// chain of setters, or `Some(..)` of any of these.
pub(super) fn settings_in(
    m: &FileModel,
    ev: Carries,
    name: &str,
    e: ExprId,
    out: &mut Vec<Setting>,
) {
    let push = |out: &mut Vec<Setting>, setter: String, value: SettingValue| {
        out.push(Setting {
            setter,
            value,
            span: m.full_span(e),
        })
    };
    match m.expr(e) {
        Expr::Struct { fields, .. } => {
            for &f in m.list(fields) {
                let f = m.field_init(f);
                if f.named {
                    settings_in(m, ev, m.name(f.member), f.expr, out);
                }
            }
        }
        // `Timeouts::wait_millis(750)`: a setter named with its unit.
        Expr::Call { func, args }
            if args.len() == 1 && !is_duration(m, e) && unit_setter(m, func).is_some() =>
        {
            let (setter, scale) = unit_setter(m, func).expect("checked");
            let value = match setting_value(m, ev, m.nth_expr(args, 0)) {
                SettingValue::Number(n) => SettingValue::Millis(n as u128 * scale),
                v => v,
            };
            push(out, setter, value);
        }
        Expr::Call { func, args } if m.is_ident(func, "Some") && args.len() == 1 => {
            let inner = m.nth_expr(args, 0);
            if matches!(m.expr(inner), Expr::Struct { .. } | Expr::MethodCall { .. })
                && !is_duration(m, inner)
            {
                settings_in(m, ev, name, inner, out);
            } else {
                push(out, name.to_string(), setting_value(m, ev, inner));
            }
        }
        Expr::MethodCall { recv, method, args }
            if !is_duration(m, e) && !args.is_empty() && m.name(method) != "unwrap" =>
        {
            settings_in(m, ev, name, recv, out);
            settings_in(m, ev, m.name(method), m.nth_expr(args, 0), out);
        }
        Expr::MethodCall { recv, method, .. } if matches!(m.name(method), "unwrap" | "expect") => {
            settings_in(m, ev, name, recv, out)
        }
        Expr::Call { func, args }
            if !is_duration(m, e)
                && matches!(m.expr(func), Expr::Path { segs, .. } if m.last(segs) == Some("new")) =>
        {
            // `PoolConstraints::new(5, 20)`, `PoolConfig::new(16)`: positional options.
            let ty = match m.expr(func) {
                Expr::Path { segs, .. } if segs.len() >= 2 => {
                    m.name(m.syms(segs)[segs.len() - 2]).to_string()
                }
                _ => String::new(),
            };
            for (i, arg) in m.exprs_of(args).enumerate() {
                out.push(Setting {
                    setter: format!("{ty}::new#{i}"),
                    value: setting_value(m, ev, arg),
                    span: m.full_span(arg),
                });
            }
        }
        Expr::Reference(inner) => settings_in(m, ev, name, inner, out),
        _ => push(out, name.to_string(), setting_value(m, ev, e)),
    }
}

/// `wait_millis` → (`wait`, 1), `timeout_secs` → (`timeout`, 1000).
fn unit_setter(m: &FileModel, func: ExprId) -> Option<(String, u128)> {
    let Expr::Path { segs, .. } = m.expr(func) else {
        return None;
    };
    let name = m.last(segs)?;
    [
        ("_millis", 1),
        ("_ms", 1),
        ("_secs", 1000),
        ("_seconds", 1000),
    ]
    .iter()
    .find_map(|(suffix, scale)| {
        name.strip_suffix(suffix)
            .map(|base| (base.to_string(), *scale))
    })
}

fn is_duration(m: &FileModel, e: ExprId) -> bool {
    match m.expr(e) {
        Expr::Call { func, .. } => {
            matches!(m.expr(func), Expr::Path { segs, .. } if m.syms(segs).iter().any(|s| m.name(*s) == "Duration"))
        }
        Expr::MethodCall { recv, .. } => is_duration(m, recv),
        _ => false,
    }
}

/// The value of an option as written: a number, a duration, `None`; a crate-local function's
/// options (`Computed`); anything constant evaluation cannot read is `Other`.
fn setting_value(m: &FileModel, ev: Carries, e: ExprId) -> SettingValue {
    match m.expr(e) {
        Expr::Call { func, args } if m.is_ident(func, "Some") && args.len() == 1 => {
            setting_value(m, ev, m.nth_expr(args, 0))
        }
        Expr::Cast(inner) => setting_value(m, ev, inner),
        Expr::Call { .. } if (ev.carries)(e) => SettingValue::Computed,
        _ => match ConstExpr::of(m, e).eval(ev.name) {
            Some(ConstVal::Int(n)) => SettingValue::Number(n),
            Some(ConstVal::Millis(ms)) => SettingValue::Millis(ms),
            Some(ConstVal::Unbounded) => SettingValue::Unbounded,
            None => SettingValue::Other,
        },
    }
}
