//! The layout holds: no import cycle between the files of `src/`, and no
//! arrow from a stage to a later one (docs/ARCHITECTURE.md draws the
//! layers). Read from the source text, as a reviewer reads it: every
//! `crate::`, `super::` and `self::` path outside test code, resolved to
//! the file that defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a file may use its own layer and those below.
/// `lib.rs` and `main.rs` declare and dispatch, and are not ranked.
const LAYERS: [&[&str]; 8] = [
    &["text", "memo", "files", "progress", "logging"],
    &["ingest"],
    &["analyze"],
    &["report"],
    &["job"],
    &["pipeline"],
    &["cli"],
    &["commands"],
];

fn layer_of(module: &[String]) -> Option<usize> {
    let top = module.first()?;
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top.as_str()))
}

/// A source file and the module path it defines (`src/a/b.rs`, `src/a/b/mod.rs`: `a::b`).
#[derive(Debug)]
struct SourceFile {
    module: Vec<String>,
    text: String,
}

fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text up to its first top-level `#[cfg(test)]` (test modules
/// close each file here), and the names of the modules it declares as test-only.
fn split_tests(text: &str) -> (String, BTreeSet<String>) {
    let mut code = String::new();
    let mut test_modules = BTreeSet::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            let next = lines.peek().map(|l| l.trim()).unwrap_or_default();
            // `#[cfg(test)] mod name;` declares a test-only file and goes on.
            if let Some(name) = next
                .strip_prefix("mod ")
                .or_else(|| next.strip_prefix("pub(crate) mod "))
                .or_else(|| next.strip_prefix("pub mod "))
                .and_then(|rest| rest.strip_suffix(';'))
            {
                test_modules.insert(name.to_owned());
                lines.next();
                continue;
            }
            if !line.starts_with(' ') {
                break;
            }
        }
        code.push_str(line);
        code.push('\n');
    }
    (code, test_modules)
}

/// Every path the code names from `crate`, `super` or `self`, with `use`
/// groups (`use crate::a::{b, c::d}`) expanded, comments left out.
fn paths_named(code: &str) -> Vec<Vec<String>> {
    let code: String = code
        .lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    // `use` statements (each starts a line), groups expanded.
    let lines: Vec<&str> = code.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        let statement = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|start| line.strip_prefix(start));
        i += 1;
        let Some(first) = statement else { continue };
        let mut text = first.to_owned();
        while !text.contains(';') && i < lines.len() {
            text.push_str(lines[i]);
            i += 1;
        }
        let tree: String = text
            .split(';')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        expand(&tree, &[], &mut paths);
    }
    // Paths written in the code itself: `crate::a::b(...)`, `super::x::Y`.
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(root) {
            let start = from + at;
            from = start + root.len();
            let before = code[..start].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = code[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
    }
    paths
        .into_iter()
        .filter(|p| {
            matches!(
                p.first().map(String::as_str),
                Some("crate" | "super" | "self")
            )
        })
        .collect()
}

/// `a::{b, c::{d, e}}` under `prefix` into `[a, b]`, `[a, c, d]`, `[a, c, e]`.
fn expand(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim_start_matches("::");
    match tree.find('{') {
        None => {
            for part in split_top(tree) {
                let mut path = prefix.to_vec();
                let part = part.split(" as ").next().unwrap_or(part);
                path.extend(
                    part.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
                out.push(path);
            }
        }
        Some(open) if split_top(tree).len() == 1 => {
            let head = &tree[..open];
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut path = prefix.to_vec();
            path.extend(
                head.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            for part in split_top(inner) {
                expand(part, &path, out);
            }
        }
        Some(_) => {
            for part in split_top(tree) {
                expand(part, prefix, out);
            }
        }
    }
}

/// Splits at the commas outside braces.
fn split_top(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The defining module of a path named in `module`: the longest prefix that
/// is a file's module (`crate::a::b::Thing` in `src/a/b.rs` is `a::b`).
fn resolve(
    named: &[String],
    module: &[String],
    known: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    // A file's `super` is its parent module; `mod.rs` files define their folder.
    let mut absolute: Vec<String> = Vec::new();
    let mut parts = named.iter().peekable();
    match parts.next().map(String::as_str) {
        Some("crate") => {}
        Some("self") => absolute = module.to_vec(),
        Some("super") => {
            absolute = module.to_vec();
            absolute.pop();
            while parts.peek().map(|p| p.as_str()) == Some("super") {
                parts.next();
                absolute.pop();
            }
        }
        _ => return None,
    }
    absolute.extend(parts.cloned());
    (1..=absolute.len())
        .rev()
        .map(|n| absolute[..n].to_vec())
        .find(|prefix| known.contains(prefix))
}

fn modules() -> BTreeMap<Vec<String>, SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut all = BTreeMap::new();
    for file in files {
        if file.ends_with("main.rs") {
            continue;
        }
        let module = module_of(&src, &file);
        let (code, tests) = split_tests(&std::fs::read_to_string(&file).unwrap());
        for name in tests {
            let mut child = module.clone();
            child.push(name);
            test_only.insert(child);
        }
        all.insert(module.clone(), SourceFile { module, text: code });
    }
    all.retain(|module, _| !test_only.iter().any(|t| module.starts_with(t)));
    all
}

/// file -> the files it takes names from.
fn imports() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules = modules();
    let known: BTreeSet<Vec<String>> = modules.keys().cloned().collect();
    modules
        .values()
        .filter(|f| !f.module.is_empty())
        .map(|f| {
            let targets = paths_named(&f.text)
                .iter()
                .filter_map(|p| resolve(p, &f.module, &known))
                // A file's own children and itself are not imports.
                .filter(|t| !t.starts_with(&f.module) && !t.is_empty())
                .collect();
            (f.module.clone(), targets)
        })
        .collect()
}

fn name(module: &[String]) -> String {
    module.join("::")
}

#[test]
fn no_arrow_runs_from_a_stage_to_a_later_one() {
    let mut backward = Vec::new();
    for (from, targets) in imports() {
        let Some(own) = layer_of(&from) else {
            backward.push(format!("{} is in no layer of LAYERS", name(&from)));
            continue;
        };
        for to in targets {
            if layer_of(&to).is_some_and(|layer| layer > own) {
                backward.push(format!("{} -> {}", name(&from), name(&to)));
            }
        }
    }
    assert!(
        backward.is_empty(),
        "arrows that run up:\n{}",
        backward.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other_even_through_others() {
    let graph = imports();
    // Depth-first search; a grey node met again closes a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Grey,
        Black,
    }
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        marks: &mut BTreeMap<Vec<String>, Mark>,
        stack: &mut Vec<Vec<String>>,
        cycles: &mut Vec<String>,
    ) {
        marks.insert(node.clone(), Mark::Grey);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next) {
                Some(Mark::Grey) => {
                    let at = stack.iter().position(|n| n == next).unwrap_or(0);
                    let cycle: Vec<String> =
                        stack[at..].iter().chain([next]).map(|m| name(m)).collect();
                    cycles.push(cycle.join(" -> "));
                }
                Some(Mark::Black) => {}
                None => visit(next, graph, marks, stack, cycles),
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Black);
    }
    let (mut marks, mut cycles) = (BTreeMap::new(), Vec::new());
    for node in graph.keys() {
        if !marks.contains_key(node) {
            visit(node, &graph, &mut marks, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_sees_the_imports_it_must() {
    // The check is only as good as its reading of `use`: these arrows exist.
    let graph = imports();
    let has = |from: &str, to: &str| {
        let split = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
        graph
            .get(&split(from))
            .is_some_and(|t| t.contains(&split(to)))
    };
    assert!(
        has("pipeline::audit", "pipeline::analysis"),
        "super:: group"
    );
    assert!(has("report::csv", "files"), "crate:: path");
    assert!(
        has("analyze::policy::evaluation", "analyze::policy::evaluate"),
        "super:: braces"
    );
    assert!(has("commands", "cli"), "crate:: braces");
    assert!(
        !graph.contains_key(&vec!["analyze".to_owned(), "sample_findings".to_owned()]),
        "test-only files are left out"
    );
}
