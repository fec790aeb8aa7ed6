//! The container image, as far as it can be checked without a container
//! engine (deploy/container/build-and-smoke.sh builds and runs the real one):
//! the Dockerfile's stages, user and copies, the build context's allow-list,
//! and the test build's binary run from a directory laid out like the
//! runtime image, with the repository hidden where the kernel allows it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// One Dockerfile instruction, continuation lines joined.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

#[derive(Debug)]
struct Stage {
    image: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

impl Stage {
    fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.instructions
            .iter()
            .filter(move |i| i.keyword == keyword)
            .map(|i| i.args.as_str())
    }

    fn last<'a>(&'a self, keyword: &'a str) -> Option<&'a str> {
        self.all(keyword).last()
    }
}

/// The Dockerfile's stages. Comments (and the `# syntax=` directive) are
/// dropped, also inside continued instructions, as Docker does.
fn stages() -> Vec<Stage> {
    let mut stages: Vec<Stage> = Vec::new();
    let mut pending = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                pending.push_str(part);
                pending.push(' ');
                continue;
            }
            None => pending.push_str(trimmed),
        }
        let text = std::mem::take(&mut pending);
        let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        let keyword = keyword.to_uppercase();
        let args = args.split_whitespace().collect::<Vec<_>>().join(" ");
        if keyword == "FROM" {
            let words: Vec<&str> = args.split(' ').filter(|w| !w.starts_with("--")).collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                [_] => None,
                other => panic!("unexpected FROM {other:?}"),
            };
            stages.push(Stage {
                image: words[0].to_owned(),
                name,
                instructions: Vec::new(),
            });
        } else {
            stages
                .last_mut()
                .expect("an instruction before the first FROM")
                .instructions
                .push(Instruction { keyword, args });
        }
    }
    stages
}

fn runtime_stage() -> Stage {
    stages().pop().expect("a FROM")
}

/// `["a", "b"]` (exec form) as a list.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not exec (JSON) form ({e}): {args}"))
}

#[test]
fn the_image_is_built_with_a_pinned_toolchain_and_run_from_a_slim_stage() {
    let stages = stages();
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    let build = &stages[0];
    let version = build
        .image
        .strip_prefix("rust:")
        .and_then(|tag| tag.split('@').next())
        .and_then(|tag| tag.strip_suffix("-bookworm"))
        .unwrap_or_else(|| panic!("builder is not rust:X.Y[.Z]-bookworm: {}", build.image));
    let numbers: Vec<u32> = version.split('.').map(|n| n.parse().unwrap()).collect();
    assert!(
        numbers.len() >= 2 && numbers[0] == 1 && numbers[1] >= 88,
        "rust-version in Cargo.toml is 1.88; the builder has {version}"
    );
    assert!(
        build
            .all("RUN")
            .any(|run| run.contains("cargo build --release --locked")),
        "the build stage builds the release binary from Cargo.lock"
    );

    let runtime = stages.last().unwrap();
    assert!(
        runtime.image == "debian:bookworm-slim"
            || runtime.image.starts_with("gcr.io/distroless/cc-debian12"),
        "runtime base: {}",
        runtime.image
    );
    // The same Debian release on both sides, so the binary's glibc is there.
    assert!(build.image.contains("bookworm") && runtime.image.contains("bookworm"));
}

#[test]
fn the_runtime_runs_as_a_fixed_non_root_user_with_the_scheduled_command() {
    let runtime = runtime_stage();
    let user = runtime.last("USER").expect("a USER in the runtime stage");
    let ids: Vec<u32> = user
        .split(':')
        .map(|id| {
            id.parse()
                .unwrap_or_else(|_| panic!("USER {user}: a numeric UID[:GID], not a name"))
        })
        .collect();
    assert!(ids.iter().all(|&id| id != 0), "USER {user} is root");
    // The account created in the image has the same UID, so its home
    // (/var/lib/kvaudit) belongs to the user the container runs as.
    let created = runtime
        .all("RUN")
        .any(|run| run.contains(&format!("--uid {}", ids[0])));
    assert!(created, "no useradd --uid {} in the runtime stage", ids[0]);
    // Nothing after USER runs as root by accident.
    let user_at = runtime
        .instructions
        .iter()
        .rposition(|i| i.keyword == "USER")
        .unwrap();
    assert!(
        runtime.instructions[user_at..]
            .iter()
            .all(|i| i.keyword != "RUN"),
        "RUN after USER"
    );

    assert_eq!(exec_form(runtime.last("ENTRYPOINT").unwrap()), ["kvaudit"]);
    assert_eq!(
        exec_form(runtime.last("CMD").unwrap()),
        ["run", "--config", "/etc/kvaudit/kvaudit.toml"]
    );
    assert_eq!(runtime.last("WORKDIR"), Some("/var/lib/kvaudit"));
    let volume = runtime.last("VOLUME").expect("a VOLUME");
    assert!(exec_form(volume).contains(&"/var/lib/kvaudit".to_owned()));
}

/// What the runtime stage copies: (source, destination), the source either
/// the build stage's binary or a path in the build context.
#[derive(Debug, PartialEq)]
enum Copied {
    Binary {
        to: String,
    },
    /// What the build stage generated with the binary (man page, completion).
    Generated {
        from: String,
        to: String,
    },
    Context {
        from: String,
        to: String,
    },
}

fn runtime_copies() -> Vec<Copied> {
    let stages = stages();
    let build_name = stages[0].name.clone().expect("the build stage is named");
    let runtime = stages.last().unwrap();
    assert_eq!(
        runtime.all("ADD").count(),
        0,
        "ADD fetches and unpacks: COPY only"
    );
    runtime
        .all("COPY")
        .map(|args| {
            let mut from = None;
            let mut paths = Vec::new();
            for word in args.split(' ') {
                match word.strip_prefix("--from=") {
                    Some(stage) => from = Some(stage.to_owned()),
                    None if word.starts_with("--") => panic!("COPY option {word} in {args}"),
                    None => paths.push(word.to_owned()),
                }
            }
            assert_eq!(
                paths.len(),
                2,
                "one source per COPY, to read it plainly: {args}"
            );
            let (source, to) = (paths[0].clone(), paths[1].clone());
            match from {
                Some(stage) => {
                    assert_eq!(stage, build_name, "copies from the build stage only");
                    assert!(source.starts_with("/out/"), "the build's output: {args}");
                    if source == "/out/kvaudit" {
                        Copied::Binary { to }
                    } else {
                        Copied::Generated { from: source, to }
                    }
                }
                None => Copied::Context { from: source, to },
            }
        })
        .collect()
}

#[test]
fn the_runtime_copies_only_the_binary_its_man_page_and_completion_policies_and_queries() {
    let copies = runtime_copies();
    let binaries: Vec<_> = copies
        .iter()
        .filter(|c| matches!(c, Copied::Binary { .. }))
        .collect();
    assert_eq!(
        binaries,
        [&Copied::Binary {
            to: "/usr/local/bin/kvaudit".into()
        }]
    );
    let context: BTreeSet<&str> = copies
        .iter()
        .filter_map(|c| match c {
            Copied::Context { from, .. } => Some(from.trim_end_matches('/')),
            Copied::Binary { .. } | Copied::Generated { .. } => None,
        })
        .collect();
    assert_eq!(context, BTreeSet::from(["policies", "queries"]));
    let generated: BTreeSet<(&str, &str)> = copies
        .iter()
        .filter_map(|c| match c {
            Copied::Generated { from, to } => Some((from.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        generated,
        BTreeSet::from([
            ("/out/kvaudit.1", "/usr/share/man/man1/kvaudit.1"),
            (
                "/out/kvaudit.bash",
                "/usr/share/bash-completion/completions/kvaudit"
            ),
        ])
    );
    let build = &stages()[0];
    let run = build.all("RUN").collect::<Vec<_>>().join("\n");
    assert!(run.contains("kvaudit man > /out/kvaudit.1"), "{run}");
    assert!(
        run.contains("kvaudit completions bash > /out/kvaudit.bash"),
        "{run}"
    );
}

/// `.dockerignore` evaluated the way Docker does for the patterns it may
/// hold here: later patterns win, `!` re-includes, a pattern matching a
/// parent directory matches everything below it, `*` stays within one name.
fn dockerignore_excludes(patterns: &[String], path: &str) -> bool {
    let components: Vec<&str> = path.split('/').collect();
    let mut excluded = false;
    for pattern in patterns {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern.as_str()),
        };
        let pattern: Vec<&str> = pattern.trim_matches('/').split('/').collect();
        let matches = pattern.len() <= components.len()
            && pattern
                .iter()
                .zip(&components)
                .all(|(p, c)| glob_name(p, c));
        if matches {
            excluded = !negated;
        }
    }
    excluded
}

/// `*` within one path component; nothing else is special (the test of the
/// patterns below refuses any other wildcard).
fn glob_name(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            let Some(tail) = name.strip_prefix(prefix) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob_name(rest, &tail[i..]))
        }
    }
}

fn dockerignore() -> Vec<String> {
    let patterns: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for p in &patterns {
        assert!(
            !p.contains(['?', '[', '\\']) && !p.contains("**"),
            "pattern {p:?} needs a fuller matcher than this test has"
        );
    }
    patterns
}

/// The workspace's members other than kvaudit (`[workspace] members` in
/// Cargo.toml): cargo reads their manifests and sources even to build kvaudit
/// alone, so they are part of the build context too.
fn workspace_members() -> Vec<String> {
    let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
    manifest["workspace"]["members"]
        .as_array()
        .expect("[workspace] members")
        .iter()
        .map(|m| m.as_str().unwrap().trim_end_matches('/').to_owned())
        .filter(|m| m != ".")
        .collect()
}

/// Every file under a repository directory, relative to the repository.
fn files_under(dir: &str) -> Vec<String> {
    walkdir::WalkDir::new(repo().join(dir))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let path = e.path().strip_prefix(repo()).unwrap();
            path.display().to_string()
        })
        .collect()
}

/// The repository files the build embeds, from every `include_str!` and
/// `include_bytes!` in src/: a path relative to the source file, or one
/// under `env!("CARGO_MANIFEST_DIR")` (then the literal after it, which may be
/// a directory prefix that a macro completes, as the policy pack's does).
fn files_the_build_embeds() -> Vec<String> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(repo().join("src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for macro_name in ["include_str!(", "include_bytes!("] {
            for (at, _) in text.match_indices(macro_name) {
                let call = &text[at..text.len().min(at + 300)];
                let literals: Vec<&str> = call.split('"').skip(1).step_by(2).collect();
                let path = match literals.as_slice() {
                    ["CARGO_MANIFEST_DIR", under, ..] => under.trim_start_matches('/').to_owned(),
                    [relative, ..] => {
                        let dir = entry.path().parent().unwrap();
                        let mut path = dir.strip_prefix(repo()).unwrap().to_owned();
                        for part in relative.split('/') {
                            match part {
                                ".." => assert!(path.pop(), "{relative} leaves the repository"),
                                "." => {}
                                part => path.push(part),
                            }
                        }
                        path.display().to_string()
                    }
                    [] => panic!(
                        "{}: {macro_name} without a literal path",
                        entry.path().display()
                    ),
                };
                files.push(path);
            }
        }
    }
    assert!(
        files.len() > 10,
        "found only {files:?}: the scan no longer sees the build's include_str! calls"
    );
    files
}

#[test]
fn the_build_context_holds_what_the_build_reads_and_nothing_local() {
    let patterns = dockerignore();
    let mut needed = files_the_build_embeds();
    // Every source file, the manifest and the lock file.
    needed.extend(["src/main.rs", "src/lib.rs", "Cargo.toml", "Cargo.lock"].map(String::from));
    for member in workspace_members() {
        needed.push(format!("{member}/Cargo.toml"));
        needed.extend(files_under(&format!("{member}/src")));
    }
    // The runtime stage's COPY sources come from the context too.
    for copy in runtime_copies() {
        if let Copied::Context { from, .. } = copy {
            needed.push(format!("{}/README.md", from.trim_end_matches('/')));
        }
    }
    let missing: Vec<&String> = needed
        .iter()
        .filter(|f| dockerignore_excludes(&patterns, f))
        .collect();
    assert!(missing.is_empty(), ".dockerignore leaves out {missing:?}");

    for local in [
        "target/debug/kvaudit",
        "reports/report.html",
        ".git/HEAD",
        "bench/results.md",
        "sample-logs/README.md",
        "tests/container.rs",
        "kvaudit.toml",
        "inventory/role-assignments.json",
        "state/manifest.json",
    ] {
        assert!(
            dockerignore_excludes(&patterns, local),
            "{local} would enter the build context"
        );
    }
}

#[test]
fn the_dockerignore_matcher_follows_docker() {
    let patterns: Vec<String> = ["*", "!src/", "!Cargo.*"].map(String::from).to_vec();
    assert!(!dockerignore_excludes(&patterns, "src/ingest/mod.rs"));
    assert!(!dockerignore_excludes(&patterns, "Cargo.lock"));
    assert!(dockerignore_excludes(&patterns, "target/debug/kvaudit"));
    assert!(dockerignore_excludes(&patterns, "srcx/a.rs"));
    let later_wins: Vec<String> = ["!a/", "a/"].map(String::from).to_vec();
    assert!(dockerignore_excludes(&later_wins, "a/b"));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A directory laid out as the runtime image: exactly what the runtime
/// stage copies, at the paths it copies them to, plus the sample logs a
/// volume would bring.
struct ImageRoot {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl ImageRoot {
    fn new() -> ImageRoot {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        for copy in runtime_copies() {
            match copy {
                Copied::Binary { to } => {
                    let target = root.join(to.trim_start_matches('/'));
                    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                    // A hard link where the file system allows it: the test
                    // binary is large.
                    if std::fs::hard_link(env!("CARGO_BIN_EXE_kvaudit"), &target).is_err() {
                        std::fs::copy(env!("CARGO_BIN_EXE_kvaudit"), &target).unwrap();
                    }
                }
                Copied::Context { from, to } => {
                    copy_tree(&repo().join(&from), &root.join(to.trim_start_matches('/')))
                }
                // What the binary writes about itself; the image runs without it.
                Copied::Generated { .. } => {}
            }
        }
        let workdir = runtime_stage().last("WORKDIR").unwrap().to_owned();
        std::fs::create_dir_all(root.join(workdir.trim_start_matches('/'))).unwrap();
        let logs = root.join("data/sample-logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::copy(
            repo().join("sample-logs/eventhub/kv-web-prod_2026-11-22.json"),
            logs.join("kv-web-prod_2026-11-22.json"),
        )
        .unwrap();
        ImageRoot { _dir: dir, root }
    }

    fn path(&self, in_image: &str) -> String {
        self.root
            .join(in_image.trim_start_matches('/'))
            .display()
            .to_string()
    }

    /// Runs kvaudit from the image layout: cwd the image's WORKDIR, an
    /// environment holding nothing of the build, and the repository covered
    /// by an empty tmpfs in a private mount namespace where `unshare` may
    /// make one (root, or unprivileged user namespaces).
    fn run(&self, args: &[&str]) -> Output {
        let binary = self.path("/usr/local/bin/kvaudit");
        let repo_dir = repo().display().to_string();
        // A temporary directory inside the repository would be hidden too.
        let hide = !self.root.starts_with(repo()) && hiding_works();
        let mut command = if hide {
            let mut c = Command::new("unshare");
            c.args(hiding_args())
                .args([
                    "sh",
                    "-c",
                    r#"mount -t tmpfs kvaudit-hidden "$0" && exec "$@""#,
                ])
                .arg(&repo_dir)
                .arg(&binary);
            c
        } else {
            eprintln!(
                "container test: the repository stays reachable (no mount namespace here); \
                 only the working directory and environment are the image's"
            );
            Command::new(&binary)
        };
        command
            .args(args)
            .current_dir(self.path("/var/lib/kvaudit"))
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path("/usr/local/bin")),
            )
            .env("HOME", self.path("/var/lib/kvaudit"))
            .env("NO_COLOR", "1");
        command.output().unwrap()
    }
}

fn hiding_args() -> &'static [&'static str] {
    static ARGS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
    ARGS.get_or_init(|| {
        let candidates: [&'static [&'static str]; 2] = [
            &["--mount", "--propagation", "private"],
            &[
                "--user",
                "--map-root-user",
                "--mount",
                "--propagation",
                "private",
            ],
        ];
        candidates
            .into_iter()
            .find(|args| {
                Command::new("unshare")
                    .args(*args)
                    .args(["sh", "-c", "mount -t tmpfs probe /mnt"])
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .unwrap_or(&[])
    })
}

fn hiding_works() -> bool {
    !hiding_args().is_empty()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_binary_needs_nothing_but_what_the_image_holds() {
    let image = ImageRoot::new();
    let policies = image.path("/usr/share/kvaudit/policies");

    if hiding_works() {
        // The hiding itself: the repository's files are gone for the child.
        let probe = image.run(&["audit", &repo().join("sample-logs").display().to_string()]);
        assert_eq!(
            probe.status.code(),
            Some(2),
            "the repository was still readable: {}",
            String::from_utf8_lossy(&probe.stderr)
        );
    }

    // The copied pack is complete: it validates without the embedded one,
    // and its own test cases pass.
    let validate = image.run(&[
        "policy",
        "validate",
        "--no-default-policies",
        "--policies",
        &policies,
    ]);
    assert_success(&validate, "policy validate");
    let test = image.run(&["policy", "test", "--no-default-policies", &policies]);
    assert_success(&test, "policy test");

    // An audit with every report, relative --out as a job in WORKDIR would,
    // the entities file from the copied pack.
    let audit = image.run(&[
        "--log-format",
        "json",
        "audit",
        &image.path("/data/sample-logs"),
        "--entities",
        &format!("{policies}/examples/sample-logs-entities.json"),
        "--out",
        "reports",
        "--quiet",
    ]);
    assert_success(&audit, "audit");
    let reports = PathBuf::from(image.path("/var/lib/kvaudit/reports"));
    for file in [
        "summary.json",
        "findings.json",
        "findings.csv",
        "report.html",
    ] {
        let size = std::fs::metadata(reports.join(file))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 0, "reports/{file} missing or empty");
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("summary.json")).unwrap())
            .unwrap();
    assert!(
        summary["records_analyzed"].as_u64().unwrap() > 0,
        "{summary}"
    );
    for line in String::from_utf8_lossy(&audit.stderr).lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("--log-format json wrote a non-JSON line ({e}): {line}"));
    }
}
