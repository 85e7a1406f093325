#!/usr/bin/env python3
"""Score connlint against the recall ledger of real backends.

Usage:
  python3 tests/realworld/score.py [--connlint BIN] [--mirrors DIR] [--cache DIR]
        [--only NAME ...] [--show misses,unjudged,fps] [--json OUT] [--validate] [FILES ...]

FILES default to every tests/realworld/backends/*.toml and tests/realworld/fixes/*.toml.
Each backend is extracted from a local git mirror (<mirrors>/<owner>+<name>/repo) at the
commit it was judged at, connlint is run on it, and its findings are matched against the
hand-judged hazards and false positives. See tests/realworld/README.md.

Python 3.11 standard library only. Exit status: 0 after measuring (whatever the numbers),
2 on bad arguments or an invalid ledger file.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent

# Rule ids of DESIGN.md's table (the public interface), including the rules that DESIGN
# describes but the engine may not implement yet: judging follows the definitions.
RULES = frozenset(
    """
    forgotten-connection detached-connection connection-in-static connection-in-app-state
    accumulated-connections held-across-await held-across-blocking nested-acquire
    connection-in-background-task blocking-acquire-in-async pool-per-call
    connection-per-iteration connection-per-request pool-without-acquire-timeout
    pool-without-max-size pool-misconfigured unclosed-connection unpolled-connection-task
    unfinished-transaction release-skipped
    """.split()
)
IGNORED_RULES = frozenset({"parse-error"})  # counted and printed, never scored
FALLBACK_PATHSPECS = ("*.rs", "*Cargo.toml", "*connlint.toml")
SHOW_KINDS = ("misses", "unjudged", "fps", "found", "dups")

HEX40 = re.compile(r"^[0-9a-f]{40}$")
REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class LedgerError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Ledger loading and validation
# --------------------------------------------------------------------------------------------


@dataclass
class Hazard:
    rule: str
    path: str
    line: int
    lines: tuple[int, int]
    function: str
    test: bool
    why: str
    idx: int = 0
    matched_by: "Finding | None" = None


@dataclass
class FalsePositive:
    rule: str
    path: str
    line: int
    why: str
    idx: int = 0
    hits: int = 0


@dataclass
class Backend:
    file: Path
    name: str
    repo: str
    commit: str
    stack: list[str]
    scope: str
    notes: str
    hazards: list[Hazard]
    fps: list[FalsePositive]


@dataclass
class Fix:
    repo: str
    buggy: str
    fixed: str
    rule: str
    path: str
    lines: tuple[int, int]
    fixed_path: str
    fixed_lines: tuple[int, int]
    subject: str
    why: str
    file: Path = field(default_factory=Path)


def _req(tbl: dict, key: str, typ, where: str):
    if key not in tbl:
        raise LedgerError(f"{where}: missing field `{key}`")
    val = tbl[key]
    if typ is int:
        ok = isinstance(val, int) and not isinstance(val, bool)
    else:
        ok = isinstance(val, typ)
    if not ok:
        raise LedgerError(f"{where}: field `{key}` must be {typ.__name__}, got {val!r}")
    return val


def _keys(tbl: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(tbl) - allowed)
    if extra:
        raise LedgerError(f"{where}: unknown field(s) {', '.join(extra)}")


def _rule(tbl: dict, where: str) -> str:
    rule = _req(tbl, "rule", str, where)
    if rule not in RULES:
        raise LedgerError(f"{where}: unknown rule id `{rule}`")
    return rule


def _path(tbl: dict, key: str, where: str) -> str:
    p = _req(tbl, key, str, where)
    if not p or p.startswith("/") or p.startswith("./") or "\\" in p or ".." in p.split("/"):
        raise LedgerError(f"{where}: `{key}` must be a relative path inside the repository, got {p!r}")
    return p


def _region(tbl: dict, key: str, where: str) -> tuple[int, int]:
    reg = _req(tbl, key, list, where)
    if (
        len(reg) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in reg)
        or reg[0] < 1
        or reg[0] > reg[1]
    ):
        raise LedgerError(f"{where}: `{key}` must be [first, last] line numbers, first <= last, got {reg!r}")
    return (reg[0], reg[1])


def _commit(tbl: dict, key: str, where: str) -> str:
    c = _req(tbl, key, str, where)
    if not HEX40.match(c):
        raise LedgerError(f"{where}: `{key}` must be a full 40-hex lower-case commit, got {c!r}")
    return c


def _repo(tbl: dict, where: str) -> str:
    r = _req(tbl, "repo", str, where)
    if not REPO_RE.match(r):
        raise LedgerError(f"{where}: `repo` must be owner/name, got {r!r}")
    return r


def load_backend(path: Path) -> Backend:
    where = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise LedgerError(f"{where}: {e}") from None
    _keys(doc, {"name", "repo", "commit", "stack", "scope", "notes", "hazard", "false_positive"}, where)
    name = _req(doc, "name", str, where)
    if name != path.stem:
        raise LedgerError(f"{where}: `name` ({name!r}) must equal the file stem ({path.stem!r})")
    repo = _repo(doc, where)
    commit = _commit(doc, "commit", where)
    stack = _req(doc, "stack", list, where)
    if not all(isinstance(s, str) for s in stack):
        raise LedgerError(f"{where}: `stack` must be a list of strings")
    scope = _req(doc, "scope", str, where)
    notes = doc.get("notes", "")
    if not isinstance(notes, str):
        raise LedgerError(f"{where}: `notes` must be a string")
    hazards: list[Hazard] = []
    for i, h in enumerate(doc.get("hazard", [])):
        w = f"{where}: [[hazard]] #{i + 1}"
        if not isinstance(h, dict):
            raise LedgerError(f"{w}: must be a table")
        _keys(h, {"rule", "path", "line", "lines", "function", "test", "why"}, w)
        rule = _rule(h, w)
        p = _path(h, "path", w)
        line = _req(h, "line", int, w)
        lines = _region(h, "lines", w)
        if not lines[0] <= line <= lines[1]:
            raise LedgerError(f"{w}: `line` {line} is outside `lines` {list(lines)}")
        func = _req(h, "function", str, w)
        test = _req(h, "test", bool, w)
        why = _req(h, "why", str, w)
        if not why.strip():
            raise LedgerError(f"{w}: `why` is empty")
        hazards.append(Hazard(rule, p, line, lines, func, test, why, idx=i + 1))
    fps: list[FalsePositive] = []
    for i, f in enumerate(doc.get("false_positive", [])):
        w = f"{where}: [[false_positive]] #{i + 1}"
        if not isinstance(f, dict):
            raise LedgerError(f"{w}: must be a table")
        _keys(f, {"rule", "path", "line", "why"}, w)
        rule = _rule(f, w)
        p = _path(f, "path", w)
        line = _req(f, "line", int, w)
        why = _req(f, "why", str, w)
        if not why.strip():
            raise LedgerError(f"{w}: `why` is empty")
        fps.append(FalsePositive(rule, p, line, why, idx=i + 1))
    # The same hazard twice would make recall depend on typing it twice.
    seen: dict[tuple, int] = {}
    for h in hazards:
        key = (h.rule, h.path, h.line)
        if key in seen:
            raise LedgerError(f"{where}: [[hazard]] #{h.idx} repeats #{seen[key]} ({h.rule} {h.path}:{h.line})")
        seen[key] = h.idx
    return Backend(path, name, repo, commit, stack, scope, notes, hazards, fps)


def load_fixes(path: Path) -> list[Fix]:
    where = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise LedgerError(f"{where}: {e}") from None
    _keys(doc, {"repo", "notes", "fix"}, where)
    repo = _repo(doc, where)
    out: list[Fix] = []
    for i, f in enumerate(doc.get("fix", [])):
        w = f"{where}: [[fix]] #{i + 1}"
        if not isinstance(f, dict):
            raise LedgerError(f"{w}: must be a table")
        _keys(
            f,
            {"buggy", "fixed", "rule", "path", "lines", "fixed_path", "fixed_lines", "subject", "why"},
            w,
        )
        buggy = _commit(f, "buggy", w)
        fixed = _commit(f, "fixed", w)
        rule = _rule(f, w)
        p = _path(f, "path", w)
        lines = _region(f, "lines", w)
        fixed_path = _path(f, "fixed_path", w) if "fixed_path" in f else p
        fixed_lines = _region(f, "fixed_lines", w) if "fixed_lines" in f else lines
        subject = _req(f, "subject", str, w)
        why = _req(f, "why", str, w)
        out.append(Fix(repo, buggy, fixed, rule, p, lines, fixed_path, fixed_lines, subject, why, path))
    return out


# --------------------------------------------------------------------------------------------
# Trees and connlint runs
# --------------------------------------------------------------------------------------------


def repo_short(repo: str) -> str:
    return repo.split("/", 1)[1]


def extract_tree(mirrors: Path, cache: Path, repo: str, name: str, commit: str) -> Path:
    """Extract `commit` of `repo` from its mirror into <cache>/<name>-<commit12> (once)."""
    dest = cache / f"{name}-{commit[:12]}"
    if (dest / ".connlint-extracted").exists():
        return dest
    git_dir = mirrors / repo.replace("/", "+", 1) / "repo"
    if not git_dir.is_dir():
        raise RuntimeError(f"no mirror for {repo} at {git_dir}")
    cache.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    last_err = ""
    for attempt in range(2):
        pathspecs: list[str] = []
        if attempt == 1:
            # The full archive failed (big/LFS blobs missing from the mirror): take only what
            # connlint reads. `git archive` rejects a pathspec that matches nothing, so pass
            # only the patterns that match a file of this commit.
            ls = subprocess.run(
                ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", "--name-only", commit],
                capture_output=True,
            )
            names = ls.stdout.decode(errors="replace").split("\0")
            pathspecs = [p for p in FALLBACK_PATHSPECS if any(fnmatch.fnmatchcase(n, p) for n in names)]
            if not pathspecs:
                break
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
        try:
            archive = subprocess.Popen(
                ["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit, "--", *pathspecs],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            untar = subprocess.run(
                ["tar", "-x", "-C", str(tmp)], stdin=archive.stdout, capture_output=True
            )
            archive.stdout.close()  # type: ignore[union-attr]
            git_err = archive.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
            archive.wait()
            if archive.returncode == 0 and untar.returncode == 0:
                (tmp / ".connlint-extracted").write_text(f"{repo} {commit}\n")
                tmp.rename(dest)
                return dest
            last_err = (git_err + untar.stderr.decode(errors="replace")).strip()
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    raise RuntimeError(f"git archive of {repo}@{commit[:12]} failed: {last_err[-500:]}")


@dataclass
class Finding:
    rule: str
    path: str
    line: int
    label_lines: list[int]
    message: str
    severity: str
    status: str = "unjudged"  # true | false | duplicate | unjudged
    hazard: Hazard | None = None
    fp: FalsePositive | None = None

    def lines(self) -> list[int]:
        return [self.line, *self.label_lines]

    def to_json(self) -> dict:
        d = {
            "rule": self.rule,
            "path": self.path,
            "line": self.line,
            "label_lines": self.label_lines,
            "message": self.message,
            "status": self.status,
        }
        if self.hazard is not None:
            d["hazard"] = {"line": self.hazard.line, "function": self.hazard.function}
        if self.fp is not None:
            d["false_positive_line"] = self.fp.line
        return d


def _norm(p: str) -> str:
    p = p.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def run_connlint(binary: Path, tree: Path) -> tuple[list[Finding], list[Finding], str]:
    """Returns (findings, parse_errors, error text)."""
    proc = subprocess.run(
        [str(binary), "check", ".", "--format", "json"],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return [], [], f"connlint exited {proc.returncode} without JSON: {proc.stderr.strip()[-500:]}"
    findings: list[Finding] = []
    parse_errors: list[Finding] = []
    for d in doc.get("diagnostics", []):
        line = d["span"]["start"]["line"]
        labels = d.get("labels") or []
        label_lines = sorted({lab["span"]["start"]["line"] for lab in labels} - {line})
        f = Finding(
            d["rule"], _norm(d["path"]), line, label_lines, d.get("message", ""), d.get("severity", "")
        )
        (parse_errors if f.rule in IGNORED_RULES else findings).append(f)
    return findings, parse_errors, ""


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _touches(f: Finding, h: Hazard) -> bool:
    return f.rule == h.rule and f.path == h.path and any(h.lines[0] <= ln <= h.lines[1] for ln in f.lines())


def match(backend: Backend, findings: list[Finding]) -> None:
    for h in backend.hazards:
        h.matched_by = None
    for fp in backend.fps:
        fp.hits = 0
    pairs = []
    for fi, f in enumerate(findings):
        for h in backend.hazards:
            if _touches(f, h):
                pairs.append((abs(f.line - h.line), f.line, fi, h.idx, f, h))
    pairs.sort(key=lambda t: t[:4])
    candidate: set[int] = set()
    for _, _, fi, _, f, h in pairs:
        candidate.add(fi)
        if h.matched_by is None and f.status != "true":
            h.matched_by = f
            f.status = "true"
            f.hazard = h
    for fi, f in enumerate(findings):
        if f.status == "true":
            continue
        fp = next(
            (e for e in backend.fps if e.rule == f.rule and e.path == f.path and abs(e.line - f.line) <= 2),
            None,
        )
        if fp is not None:
            f.status = "false"
            f.fp = fp
            fp.hits += 1
        elif fi in candidate:
            f.status = "duplicate"
            f.hazard = next(h for _, _, i, _, _, h in pairs if i == fi)
        else:
            f.status = "unjudged"


@dataclass
class Result:
    backend: Backend
    findings: list[Finding]
    parse_errors: list[Finding]
    error: str = ""

    def counts(self) -> dict:
        hz = len(self.backend.hazards)
        found = sum(1 for h in self.backend.hazards if h.matched_by is not None)
        by = {s: sum(1 for f in self.findings if f.status == s) for s in ("true", "false", "duplicate", "unjudged")}
        return {
            "hazards": hz,
            "found": found,
            "findings": len(self.findings),
            "true": by["true"],
            "false": by["false"],
            "duplicate": by["duplicate"],
            "unjudged": by["unjudged"],
            "parse_errors": len(self.parse_errors),
        }


def ratio(a: int, b: int) -> str:
    return "-" if b == 0 else f"{a / b:.2f}"


def precision(c: dict) -> tuple[int, int]:
    return c["true"], c["true"] + c["false"] + c["duplicate"]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def print_table(results: list[Result]) -> dict:
    cols = ["backend", "hazards", "found", "recall", "findings", "true", "false", "dup", "unjudged", "precision", "parse-err"]
    rows = []
    total = dict.fromkeys(["hazards", "found", "findings", "true", "false", "duplicate", "unjudged", "parse_errors"], 0)
    for r in results:
        c = r.counts()
        for k in total:
            total[k] += c[k]
        t, d = precision(c)
        prec = ratio(t, d) + ("*" if c["unjudged"] else "")
        name = r.backend.name + (" (ERROR)" if r.error else "")
        rows.append([name, c["hazards"], c["found"], ratio(c["found"], c["hazards"]), c["findings"], c["true"],
                     c["false"], c["duplicate"], c["unjudged"], prec, c["parse_errors"]])
    t, d = precision(total)
    rows.append(["TOTAL", total["hazards"], total["found"], ratio(total["found"], total["hazards"]), total["findings"],
                 total["true"], total["false"], total["duplicate"], total["unjudged"],
                 ratio(t, d) + ("*" if total["unjudged"] else ""), total["parse_errors"]])
    widths = [max(len(str(x)) for x in [c, *[row[i] for row in rows]]) for i, c in enumerate(cols)]
    fmt = lambda row: "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths)))  # noqa: E731
    print(fmt(cols))
    print("  ".join("-" * w for w in widths))
    for row in rows[:-1]:
        print(fmt(row))
    print("  ".join("-" * w for w in widths))
    print(fmt(rows[-1]))
    if total["unjudged"]:
        print("* provisional: unjudged findings are left out of precision; judge them (--show unjudged)")
    return total


def show(results: list[Result], kinds: set[str]) -> None:
    for r in results:
        b = r.backend
        if r.error:
            print(f"\n== {b.name}: ERROR {r.error}")
            continue
        if "misses" in kinds:
            miss = [h for h in b.hazards if h.matched_by is None]
            if miss:
                print(f"\n== {b.name}: {len(miss)} missed hazard(s)")
                for h in sorted(miss, key=lambda h: (h.path, h.line)):
                    t = " [test]" if h.test else ""
                    print(f"  {h.rule:30} {h.path}:{h.line} ({h.lines[0]}-{h.lines[1]}) {h.function}{t}\n      {h.why}")
        if "found" in kinds:
            hit = [h for h in b.hazards if h.matched_by is not None]
            if hit:
                print(f"\n== {b.name}: {len(hit)} found hazard(s)")
                for h in sorted(hit, key=lambda h: (h.path, h.line)):
                    print(f"  {h.rule:30} {h.path}:{h.line} <- finding at line {h.matched_by.line}")
        if "unjudged" in kinds:
            un = [f for f in r.findings if f.status == "unjudged"]
            if un:
                print(f"\n== {b.name}: {len(un)} unjudged finding(s)")
                for f in un:
                    extra = f" (labels {', '.join(map(str, f.label_lines))})" if f.label_lines else ""
                    print(f"  {f.rule:30} {f.path}:{f.line}{extra}\n      {f.message}")
        if "dups" in kinds:
            du = [f for f in r.findings if f.status == "duplicate"]
            if du:
                print(f"\n== {b.name}: {len(du)} duplicate finding(s)")
                for f in du:
                    print(f"  {f.rule:30} {f.path}:{f.line} (hazard at {f.hazard.line if f.hazard else '?'})\n      {f.message}")
        if "fps" in kinds:
            fp = [f for f in r.findings if f.status == "false"]
            stale = [e for e in b.fps if e.hits == 0]
            if fp or stale:
                print(f"\n== {b.name}: {len(fp)} false positive(s), {len(stale)} false_positive entr(ies) matching no finding")
                for f in fp:
                    print(f"  {f.rule:30} {f.path}:{f.line}\n      finding: {f.message}\n      judged:  {f.fp.why if f.fp else ''}")
                for e in stale:
                    print(f"  (no finding) {e.rule:30} {e.path}:{e.line}  {e.why}")
        if r.parse_errors and kinds:
            print(f"\n== {b.name}: {len(r.parse_errors)} parse-error(s) (not scored)")
            for f in r.parse_errors[:20]:
                print(f"  {f.path}:{f.line} {f.message}")


def score_fixes(fixes: list[Fix], binary: Path, mirrors: Path, cache: Path, runs: dict) -> list[dict]:
    out = []
    for fx in fixes:
        row = {
            "repo": fx.repo, "buggy": fx.buggy, "fixed": fx.fixed, "rule": fx.rule, "path": fx.path,
            "lines": list(fx.lines), "subject": fx.subject, "flagged": None, "gone": None, "error": "",
        }
        try:
            res = {}
            for which, commit in (("buggy", fx.buggy), ("fixed", fx.fixed)):
                key = (fx.repo, commit)
                if key not in runs:
                    tree = extract_tree(mirrors, cache, fx.repo, repo_short(fx.repo), commit)
                    runs[key] = run_connlint(binary, tree)
                findings, _, err = runs[key]
                if err:
                    raise RuntimeError(err)
                res[which] = findings
            row["flagged"] = any(
                f.rule == fx.rule and f.path == fx.path and any(fx.lines[0] <= ln <= fx.lines[1] for ln in f.lines())
                for f in res["buggy"]
            )
            row["gone"] = not any(
                f.rule == fx.rule and f.path == fx.fixed_path
                and any(fx.fixed_lines[0] <= ln <= fx.fixed_lines[1] for ln in f.lines())
                for f in res["fixed"]
            )
        except RuntimeError as e:
            row["error"] = str(e)
        out.append(row)
    return out


def print_fixes(rows: list[dict]) -> None:
    if not rows:
        return
    print("\nfix commits")
    cols = ["repo", "fixed", "rule", "path", "flagged", "gone", "subject"]
    yn = lambda v: "err" if v is None else ("yes" if v else "no")  # noqa: E731
    table = [[r["repo"], r["fixed"][:10], r["rule"], f"{r['path']}:{r['lines'][0]}", yn(r["flagged"]), yn(r["gone"]),
              r["subject"][:60]] for r in rows]
    widths = [max(len(str(x)) for x in [c, *[row[i] for row in table]]) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for row in table:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
    ok = sum(1 for r in rows if r["flagged"] and r["gone"])
    flagged = sum(1 for r in rows if r["flagged"])
    print(f"flagged at buggy: {flagged} of {len(rows)}; flagged and gone at fixed: {ok} of {len(rows)} ({ratio(ok, len(rows))})")
    for r in rows:
        if r["error"]:
            print(f"  error {r['repo']}@{r['buggy'][:10]}: {r['error']}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Score connlint against the recall ledger (tests/realworld).")
    ap.add_argument("files", nargs="*", type=Path, help="ledger files (default: backends/*.toml and fixes/*.toml)")
    ap.add_argument("--connlint", type=Path, default=REPO_ROOT / "target" / "release" / "connlint",
                    help="connlint binary (default: target/release/connlint of this checkout)")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                    help="directory of git mirrors <owner>+<name>/repo (default /work/.mirror)")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("CONNLINT_REALWORLD_CACHE", Path(tempfile.gettempdir()) / "connlint-realworld")),
                    help="where extracted trees are kept (default $CONNLINT_REALWORLD_CACHE or /tmp/connlint-realworld)")
    ap.add_argument("--only", nargs="+", action="extend", default=[], metavar="NAME",
                    help="only these backends (file stems) / fix files; also comma-separated")
    ap.add_argument("--show", default="", help=f"comma-separated: {','.join(SHOW_KINDS)}")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the full result as JSON")
    ap.add_argument("--validate", action="store_true", help="only validate the ledger files, run nothing")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0

    kinds = {k.strip() for k in args.show.split(",") if k.strip()}
    bad = kinds - set(SHOW_KINDS)
    if bad:
        print(f"score.py: unknown --show kind(s): {', '.join(sorted(bad))} (choose from {', '.join(SHOW_KINDS)})", file=sys.stderr)
        return 2
    only = {n for item in args.only for n in item.split(",") if n}

    files: list[Path] = list(args.files)
    if not files:
        files = sorted((HERE / "backends").glob("*.toml")) + sorted((HERE / "fixes").glob("*.toml"))
    backends: list[Backend] = []
    fixes: list[Fix] = []
    errors = []
    for f in files:
        if not f.is_file():
            errors.append(f"{f}: no such file")
            continue
        is_fix = f.parent.name == "fixes"
        try:
            if is_fix:
                if not only or f.stem in only:
                    fixes.extend(load_fixes(f))
                else:
                    load_fixes(f)
            else:
                b = load_backend(f)
                if not only or b.name in only:
                    backends.append(b)
        except LedgerError as e:
            errors.append(str(e))
    if errors:
        for e in errors:
            print(f"score.py: invalid ledger: {e}", file=sys.stderr)
        return 2
    names = [b.name for b in backends]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        print(f"score.py: backend name(s) used twice: {', '.join(sorted(dup))}", file=sys.stderr)
        return 2
    if args.validate:
        nh = sum(len(b.hazards) for b in backends)
        nf = sum(len(b.fps) for b in backends)
        print(f"ok: {len(backends)} backend(s), {nh} hazard(s), {nf} false positive(s), {len(fixes)} fix(es)")
        return 0

    binary = args.connlint if args.connlint.is_absolute() else Path.cwd() / args.connlint
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        print(f"score.py: connlint binary not found or not executable: {binary} (build it, or pass --connlint)", file=sys.stderr)
        return 2
    binary = binary.resolve()
    cache = args.cache.resolve()

    results: list[Result] = []
    runs: dict = {}
    for b in backends:
        try:
            tree = extract_tree(args.mirrors, cache, b.repo, b.name, b.commit)
            findings, perr, err = run_connlint(binary, tree)
            runs[(b.repo, b.commit)] = (findings, perr, err)
        except RuntimeError as e:
            findings, perr, err = [], [], str(e)
        match(b, findings)
        results.append(Result(b, findings, perr, err))

    total = print_table(results) if results else {}
    for r in results:
        if r.error:
            print(f"error: {r.backend.name}: {r.error}", file=sys.stderr)
    if kinds:
        show(results, kinds)
    fix_rows = score_fixes(fixes, binary, args.mirrors, cache, runs) if fixes else []
    print_fixes(fix_rows)

    if args.json:
        doc = {
            "connlint": str(binary),
            "backends": [
                {
                    "name": r.backend.name,
                    "repo": r.backend.repo,
                    "commit": r.backend.commit,
                    "error": r.error,
                    "counts": r.counts(),
                    "recall": (r.counts()["found"] / r.counts()["hazards"]) if r.counts()["hazards"] else None,
                    "precision": (lambda t, d: t / d if d else None)(*precision(r.counts())),
                    "hazards": [
                        {
                            "rule": h.rule, "path": h.path, "line": h.line, "lines": list(h.lines),
                            "function": h.function, "test": h.test, "why": h.why,
                            "found": h.matched_by is not None,
                            "finding_line": h.matched_by.line if h.matched_by else None,
                        }
                        for h in r.backend.hazards
                    ],
                    "findings": [f.to_json() for f in r.findings],
                    "parse_errors": [f.to_json() for f in r.parse_errors],
                }
                for r in results
            ],
            "total": total,
            "fixes": fix_rows,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
