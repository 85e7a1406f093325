//! Patterns and types.

use super::Lowerer;
use crate::model::{FieldPat, List, Pat, PatId, Span, Sym, TyId, TypeExpr};

impl Lowerer<'_> {
    pub(crate) fn pat(&mut self, p: &syn::Pat) -> PatId {
        match p {
            syn::Pat::Ident(i) => {
                let name = self.ident(&i.ident);
                let sub = i.subpat.as_ref().map(|(_, s)| self.pat(s));
                let first = i
                    .by_ref
                    .map(|t| t.span)
                    .or(i.mutability.map(|t| t.span))
                    .unwrap_or(i.ident.span());
                let mut span = self.span(first).to(self.span(i.ident.span()));
                if let Some(s) = sub {
                    span = span.to(self.m.pat_span(s));
                }
                self.push_pat(Pat::Ident { name, sub }, span)
            }
            syn::Pat::Type(t) => {
                let pat = self.pat(&t.pat);
                let ty = self.ty(&t.ty);
                let span = self.m.pat_span(pat).to(self.m.ty_span(ty));
                self.push_pat(Pat::Typed { pat, ty }, span)
            }
            syn::Pat::Reference(r) => {
                let pat = self.pat(&r.pat);
                let span = self.span(r.and_token.span).to(self.m.pat_span(pat));
                self.push_pat(Pat::Reference(pat), span)
            }
            syn::Pat::Paren(p) => self.pat(&p.pat),
            syn::Pat::Guard(g) => {
                let pat = self.pat(&g.pat);
                let guard = self.expr(&g.guard);
                let span = self.m.pat_span(pat).to(self.m.full_span(guard));
                self.push_pat(Pat::Guard { pat, guard }, span)
            }
            syn::Pat::Or(o) => {
                let cases: Vec<u32> = o.cases.iter().map(|c| self.pat(c).raw()).collect();
                let span = self.spans_of(&cases);
                let l = self.list(&cases);
                self.push_pat(Pat::Or(l), span)
            }
            syn::Pat::Tuple(t) => {
                let elems: Vec<u32> = t.elems.iter().map(|c| self.pat(c).raw()).collect();
                let span = self.span(t.paren_token.span.join());
                let l = self.list(&elems);
                self.push_pat(Pat::Tuple(l), span)
            }
            syn::Pat::TupleStruct(ts) => {
                let path = self.path(&ts.path);
                let elems: Vec<u32> = ts.elems.iter().map(|c| self.pat(c).raw()).collect();
                let span = self
                    .path_start(&ts.path)
                    .to(self.span(ts.paren_token.span.close()));
                let elems = self.list(&elems);
                self.push_pat(Pat::TupleStruct { path, elems }, span)
            }
            syn::Pat::Struct(s) => {
                let path = self.path(&s.path);
                let mut fields = Vec::with_capacity(s.fields.len());
                for f in &s.fields {
                    let member = self.member(&f.member);
                    let pat = self.pat(&f.pat);
                    fields.push(self.push_field_pat(FieldPat { member, pat }));
                }
                let span = self
                    .path_start(&s.path)
                    .to(self.span(s.brace_token.span.close()));
                let fields = self.list(&fields);
                self.push_pat(Pat::Struct { path, fields }, span)
            }
            syn::Pat::Slice(s) => {
                let elems: Vec<u32> = s.elems.iter().map(|c| self.pat(c).raw()).collect();
                let span = self.span(s.bracket_token.span.join());
                let l = self.list(&elems);
                self.push_pat(Pat::Slice(l), span)
            }
            syn::Pat::Wild(w) => {
                let span = self.span(w.underscore_token.span);
                self.push_pat(Pat::Wild, span)
            }
            other => {
                let span = self.span(syn::spanned::Spanned::span(other));
                self.push_pat(Pat::Other, span)
            }
        }
    }

    /// The span of a run of patterns (first to last).
    fn spans_of(&self, pats: &[u32]) -> Span {
        match (pats.first(), pats.last()) {
            (Some(&a), Some(&b)) => self
                .m
                .pat_span(PatId::from_raw(a))
                .to(self.m.pat_span(PatId::from_raw(b))),
            _ => Span::default(),
        }
    }

    pub(crate) fn member(&mut self, m: &syn::Member) -> Sym {
        match m {
            syn::Member::Named(n) => self.ident(n),
            syn::Member::Unnamed(i) => self.sym(&i.index.to_string()),
        }
    }

    /// Where a path starts: its leading `::` or first segment.
    pub(crate) fn path_start(&self, p: &syn::Path) -> Span {
        match (&p.leading_colon, p.segments.first()) {
            (Some(c), _) => self.span(c.spans[0]),
            (None, Some(s)) => self.span(s.ident.span()),
            (None, None) => Span::default(),
        }
    }

    /// A path's span, from its start to its last segment (and that segment's `<..>`).
    pub(crate) fn path_span(&self, p: &syn::Path) -> Span {
        if p.leading_colon.is_none() && p.segments.len() == 1 {
            let only = &p.segments[0];
            if only.arguments.is_none() {
                return self.span(only.ident.span());
            }
        }
        let start = self.path_start(p);
        match p.segments.last() {
            Some(last) => {
                let end = match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) => self.span(a.gt_token.span),
                    syn::PathArguments::Parenthesized(a) => self.span(a.paren_token.span.close()),
                    syn::PathArguments::None => self.span(last.ident.span()),
                };
                start.to(end)
            }
            None => start,
        }
    }

    pub(crate) fn ty(&mut self, t: &syn::Type) -> TyId {
        match t {
            syn::Type::Path(p) => {
                let segs = self.path(&p.path);
                let (args, assoc) = match p.path.segments.last() {
                    Some(last) => self.generic_args(&last.arguments),
                    None => (List::default(), List::default()),
                };
                let span = self.path_span(&p.path);
                self.push_type(TypeExpr::Path { segs, args, assoc }, span)
            }
            syn::Type::Reference(r) => {
                let inner = self.ty(&r.elem);
                let span = self.span(r.and_token.span).to(self.m.ty_span(inner));
                self.push_type(TypeExpr::Ref(inner), span)
            }
            syn::Type::Ptr(p) => {
                let inner = self.ty(&p.elem);
                let span = self.span(p.star_token.span).to(self.m.ty_span(inner));
                self.push_type(TypeExpr::Ref(inner), span)
            }
            syn::Type::Paren(p) => {
                let inner = self.ty(&p.elem);
                let span = self.span(p.paren_token.span.join());
                self.push_type(TypeExpr::Ref(inner), span)
            }
            syn::Type::Group(g) => {
                let inner = self.ty(&g.elem);
                let span = self.m.ty_span(inner);
                self.push_type(TypeExpr::Ref(inner), span)
            }
            syn::Type::Array(a) => {
                let inner = self.ty(&a.elem);
                let span = self.span(a.bracket_token.span.join());
                self.push_type(TypeExpr::Array(inner), span)
            }
            syn::Type::Slice(s) => {
                let inner = self.ty(&s.elem);
                let span = self.span(s.bracket_token.span.join());
                self.push_type(TypeExpr::Array(inner), span)
            }
            syn::Type::Tuple(t) => {
                let elems: Vec<u32> = t.elems.iter().map(|e| self.ty(e).raw()).collect();
                let elems = self.list(&elems);
                let span = self.span(t.paren_token.span.join());
                self.push_type(TypeExpr::Tuple(elems), span)
            }
            syn::Type::ImplTrait(i) => {
                let span = self.span(i.impl_token.span);
                self.bound(i.bounds.iter(), span)
            }
            syn::Type::TraitObject(o) => {
                let span = o.dyn_token.map(|d| self.span(d.span)).unwrap_or_default();
                self.bound(o.bounds.iter(), span)
            }
            other => {
                let span = self.span(syn::spanned::Spanned::span(other));
                self.push_type(TypeExpr::Other, span)
            }
        }
    }

    /// `impl A + B<Assoc = T>`: the first trait bound that binds an associated type, else the
    /// first trait bound.
    fn bound<'b>(
        &mut self,
        bounds: impl Iterator<Item = &'b syn::TypeParamBound> + Clone,
        span: Span,
    ) -> TyId {
        let traits: Vec<&syn::TraitBound> = bounds
            .filter_map(|b| match b {
                syn::TypeParamBound::Trait(t) => Some(t),
                _ => None,
            })
            .collect();
        let binds = |t: &&&syn::TraitBound| {
            t.path.segments.last().is_some_and(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .any(|g| matches!(g, syn::GenericArgument::AssocType(_))),
                _ => false,
            })
        };
        let Some(t) = traits.iter().find(binds).or(traits.first()) else {
            return self.push_type(TypeExpr::Other, span);
        };
        let path = self.path(&t.path);
        let assoc = match t.path.segments.last() {
            Some(last) => self.generic_args(&last.arguments).1,
            None => List::default(),
        };
        self.push_type(TypeExpr::Bound { path, assoc }, span)
    }

    /// The type arguments and associated type bindings of `<..>`.
    fn generic_args(&mut self, args: &syn::PathArguments) -> (List, List) {
        let mut types = Vec::new();
        let mut assoc = Vec::new();
        if let syn::PathArguments::AngleBracketed(a) = args {
            for g in &a.args {
                match g {
                    syn::GenericArgument::Type(t) => types.push(self.ty(t).raw()),
                    syn::GenericArgument::AssocType(at) => {
                        let name = self.ident(&at.ident);
                        let t = self.ty(&at.ty);
                        assoc.extend([name.0, t.raw()]);
                    }
                    _ => {}
                }
            }
        }
        (self.list(&types), self.list(&assoc))
    }
}
