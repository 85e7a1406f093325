//! Which functions run once per request or per job: web handlers (a route attribute, or
//! extractor parameters of a web framework) and the run methods of job traits. Rules that care
//! how often code runs (`connection-per-request`) read this from [`super::Body::entry`].

use crate::index::{CrateIndex, Where};
use crate::model::{FileModel, FnDef, Item, ParamKind, TypeExpr};

/// How a function is entered over and over by the framework that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A web handler: runs once per request.
    Handler,
    /// The run method of a background job: runs once per job.
    Job,
}

impl Entry {
    /// "request" or "job", for messages.
    pub fn unit(self) -> &'static str {
        match self {
            Entry::Handler => "request",
            Entry::Job => "job",
        }
    }
}

/// Crates whose extractor types mark a handler (or, for apalis, a job function).
const FRAMEWORKS: &[&str] = &[
    "axum",
    "axum_extra",
    "actix_web",
    "web",
    "rocket",
    "poem",
    "poem_openapi",
    "salvo",
    "ntex",
    "loco_rs",
    "apalis",
    "apalis_core",
];

/// Extractor types: a parameter of one of these (from a framework) is filled by the framework
/// for each request.
const EXTRACTORS: &[&str] = &[
    "State",
    "Json",
    "Path",
    "Query",
    "Form",
    "Extension",
    "Data",
    "Multipart",
    "TypedHeader",
    "ConnectInfo",
    "HttpRequest",
    "WebSocketUpgrade",
];

/// Traits whose `run`-like method runs once per job (fang, apalis, background-job crates).
const JOB_TRAITS: &[&str] = &[
    "Job",
    "AsyncRunnable",
    "Runnable",
    "BackgroundJob",
    "JobHandler",
    "AsyncJob",
];
const JOB_METHODS: &[&str] = &["run", "perform", "execute", "handle", "process"];

/// Is `file`'s function `fn_index` (whose code is at `at`) entered once per request or job?
pub fn entry_of(idx: &CrateIndex, at: &Where, m: &FileModel, fn_index: usize) -> Option<Entry> {
    let f = m.fns.get(fn_index)?;
    if f.attrs.runs_once || f.in_test_mod {
        return None;
    }
    let local_extractor = |kind: ParamKind| match kind {
        // A crate-local type with a `FromRequest(Parts)` impl (`compute: Compute`).
        ParamKind::Typed {
            ty, by_ref: false, ..
        } => idx.extractor(&idx.resolve(at, m, ty)).is_some(),
        _ => false,
    };
    if f.attrs.route
        || f.sig
            .params
            .iter()
            .any(|p| extractor_param(m, p.kind) || local_extractor(p.kind))
    {
        return Some(Entry::Handler);
    }
    job_method(m, f, fn_index).then_some(Entry::Job)
}

fn extractor_param(m: &FileModel, kind: ParamKind) -> bool {
    let ParamKind::Typed { ty, .. } = kind else {
        return false;
    };
    extractor_ty(m, ty, 0)
}

fn extractor_ty(m: &FileModel, ty: crate::model::TyId, depth: u8) -> bool {
    // Rocket's `&State<T>` is taken by reference.
    let ty = match m.ty(ty) {
        TypeExpr::Ref(inner) => inner,
        _ => ty,
    };
    let TypeExpr::Path { segs, args, .. } = m.ty(ty) else {
        return false;
    };
    let path = m.path_strings(segs);
    // `type Compute = State<Arc<Node>>;` in the same file: the alias's target.
    if let [name] = path.as_slice() {
        let target = m.items.iter().find_map(|it| match it {
            Item::Alias(a) if m.name(a.name) == name => Some(a.ty),
            _ => None,
        });
        if let Some(t) = target.filter(|_| depth < 4) {
            return extractor_ty(m, t, depth + 1);
        }
    }
    let Some(last) = path.last() else {
        return false;
    };
    if !EXTRACTORS.contains(&last.as_str()) {
        return false;
    }
    // `std::path::Path` and friends are not generic; extractors other than the request are.
    if args.is_empty() && last != "HttpRequest" {
        return false;
    }
    let from_framework = |full: &[String]| {
        full.first()
            .is_some_and(|r| FRAMEWORKS.contains(&r.as_str()))
    };
    if path.len() > 1 {
        // `web::Data<T>`, `axum::extract::State<S>`, or a module imported from one.
        let root = &path[0];
        return from_framework(&path)
            || m.scope
                .imports
                .get(root)
                .is_some_and(|full| from_framework(full));
    }
    match m.scope.imports.get(last) {
        Some(full) => from_framework(full),
        // Not imported by name: a glob import of a framework's prelude brings it.
        None => m.scope.globs.iter().any(|g| from_framework(g)),
    }
}

/// A `run`-like method of an `impl Job for T`-like block.
fn job_method(m: &FileModel, f: &FnDef, fn_index: usize) -> bool {
    if !JOB_METHODS.contains(&m.name(f.sig.name)) {
        return false;
    }
    m.items.iter().any(|it| match it {
        Item::Impl(i) => {
            i.fns.contains(&(fn_index as u32))
                && i.trait_path
                    .and_then(|t| m.last(t))
                    .is_some_and(|t| JOB_TRAITS.contains(&t))
        }
        _ => false,
    })
}
