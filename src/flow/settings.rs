//! Pool options as the code writes them: setter arguments, struct literals of options,
//! `Duration` constructors, `None` for "no limit".

use super::{Setting, SettingValue};
use crate::model::{BinOp, Expr, ExprId, FileModel, Lit};

/// Does this call return pool options of its own (a crate-local `fn pool_config() ->
/// PoolConfig`)? Its value then stands for options the reader cannot see.
pub(super) type Carries<'a> = &'a dyn Fn(ExprId) -> bool;

/// The pool options set by an expression given to `name`: a value (`max_connections(5)`), a
/// struct literal of options (`PoolConfig { max_size: 16, timeouts: Timeouts { .. } }`), a
/// chain of setters, or `Some(..)` of any of these.
pub(super) fn settings_in(
    m: &FileModel,
    carries: Carries,
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
                    settings_in(m, carries, m.name(f.member), f.expr, out);
                }
            }
        }
        // `Timeouts::wait_millis(750)`: a setter named with its unit.
        Expr::Call { func, args }
            if args.len() == 1 && !is_duration(m, e) && unit_setter(m, func).is_some() =>
        {
            let (setter, scale) = unit_setter(m, func).expect("checked");
            let value = match setting_value(m, carries, m.nth_expr(args, 0)) {
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
                settings_in(m, carries, name, inner, out);
            } else {
                push(out, name.to_string(), setting_value(m, carries, inner));
            }
        }
        Expr::MethodCall { recv, method, args }
            if !is_duration(m, e) && !args.is_empty() && m.name(method) != "unwrap" =>
        {
            settings_in(m, carries, name, recv, out);
            settings_in(m, carries, m.name(method), m.nth_expr(args, 0), out);
        }
        Expr::MethodCall { recv, method, .. } if matches!(m.name(method), "unwrap" | "expect") => {
            settings_in(m, carries, name, recv, out)
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
                    value: setting_value(m, carries, arg),
                    span: m.full_span(arg),
                });
            }
        }
        Expr::Reference(inner) => settings_in(m, carries, name, inner, out),
        _ => push(out, name.to_string(), setting_value(m, carries, e)),
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

/// An integer written as a literal or a little arithmetic on literals.
fn int(m: &FileModel, e: ExprId) -> Option<u64> {
    match m.expr(e) {
        Expr::Lit(Lit::Int(i)) => Some(u64::from(i)),
        Expr::Binary { op, left, right } => {
            let (l, r) = (int(m, left)?, int(m, right)?);
            match op {
                BinOp::Mul => l.checked_mul(r),
                BinOp::Add => l.checked_add(r),
                BinOp::Sub => l.checked_sub(r),
                BinOp::Div => l.checked_div(r),
                BinOp::Other => None,
            }
        }
        _ => None,
    }
}

/// The value of an option as written: a number, a duration, `None`.
fn setting_value(m: &FileModel, carries: Carries, e: ExprId) -> SettingValue {
    match m.expr(e) {
        Expr::Path { .. } if m.is_ident(e, "None") => SettingValue::Unbounded,
        Expr::Call { func, args } if m.is_ident(func, "Some") && args.len() == 1 => {
            setting_value(m, carries, m.nth_expr(args, 0))
        }
        Expr::Cast(inner) => setting_value(m, carries, inner),
        Expr::Call { func, args } => {
            let Some(unit) = (match m.expr(func) {
                Expr::Path { segs, .. } => m.last(segs),
                _ => None,
            }) else {
                return SettingValue::Other;
            };
            if carries(e) {
                return SettingValue::Computed;
            }
            let Some(n) = m.exprs_of(args).next().and_then(|a| int(m, a)) else {
                return SettingValue::Other;
            };
            let n = n as u128;
            match unit {
                "from_secs" => SettingValue::Millis(n * 1000),
                "from_millis" => SettingValue::Millis(n),
                "from_micros" => SettingValue::Millis(n / 1000),
                "from_nanos" => SettingValue::Millis(n / 1_000_000),
                "from_mins" => SettingValue::Millis(n * 60_000),
                "from_hours" => SettingValue::Millis(n * 3_600_000),
                _ => SettingValue::Other,
            }
        }
        _ => int(m, e).map_or(SettingValue::Other, SettingValue::Number),
    }
}
