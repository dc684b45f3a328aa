//! The dependency rules of DESIGN.md, enforced from `cargo metadata` rather than by review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, MetadataCommand, Package};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where a package sits in the layout, from its manifest path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    App,
    Module(String),
    PluginApi,
    PluginHost,
    Plugin,
    TestPlugin,
    Migrations,
    Tests,
    Benches,
}

fn place(root: &Path, package: &Package) -> Place {
    let dir = package
        .manifest_path
        .parent()
        .unwrap()
        .as_std_path()
        .strip_prefix(root)
        .unwrap()
        .to_path_buf();
    let parts: Vec<String> = dir
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match parts
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["app"] => Place::App,
        ["modules", name] => Place::Module((*name).to_owned()),
        ["plugins", "api"] => Place::PluginApi,
        ["plugins", "host"] => Place::PluginHost,
        ["plugins", _] => Place::Plugin,
        ["tests", "plugins", _] => Place::TestPlugin,
        ["migrations"] => Place::Migrations,
        ["tests"] => Place::Tests,
        ["benches"] => Place::Benches,
        other => panic!(
            "package {} is outside the layout of DESIGN.md: {other:?}",
            package.name
        ),
    }
}

/// Module → modules it may use (besides kernel), as DESIGN.md allows.
fn allowed_module_edges() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    edges
        .entry("auth")
        .or_default()
        .extend(["devices", "quota"]);
    edges.entry("quota").or_default().insert("devices");
    edges.entry("payments").or_default().insert("quota");
    edges
}

/// Modules any module may use in its own tests
/// (the simulator, the state store, and the real RouterOS client to talk to the simulator).
const TEST_ONLY_HELPERS: &[&str] = &["routeros-sim", "store", "routeros"];

#[test]
fn crates_respect_the_dependency_rules() {
    let root = workspace_root();
    let metadata = MetadataCommand::new()
        .current_dir(&root)
        .no_deps()
        .exec()
        .expect("cargo metadata");
    let members: BTreeMap<String, Place> = metadata
        .workspace_packages()
        .iter()
        .map(|p| (p.name.to_string(), place(&root, p)))
        .collect();
    let module_edges = allowed_module_edges();
    let mut violations = Vec::new();

    for package in metadata.workspace_packages() {
        let from = &members[package.name.as_str()];
        for dep in &package.dependencies {
            let dev = dep.kind == DependencyKind::Development;
            let Some(to) = members.get(dep.name.as_str()) else {
                // External crate: only the ABI and migrations crates are restricted.
                let external_ok = match from {
                    Place::PluginApi => ["serde", "serde_json"].contains(&dep.name.as_str()) || dev,
                    Place::Migrations => dep.name == "sea-orm-migration" || dev,
                    _ => true,
                };
                if !external_ok {
                    violations.push(format!(
                        "{} must not depend on external crate {}",
                        package.name, dep.name
                    ));
                }
                continue;
            };
            let ok = match (from, to) {
                (_, Place::App) => matches!(from, Place::Tests | Place::Benches),
                (Place::App | Place::Tests | Place::Benches, _) => true,
                (Place::Module(_), Place::Module(m)) if m == "kernel" => true,
                (Place::Module(a), Place::Module(b)) => {
                    module_edges
                        .get(a.as_str())
                        .is_some_and(|allowed| allowed.contains(b.as_str()))
                        || (dev && TEST_ONLY_HELPERS.contains(&b.as_str()))
                }
                (Place::Module(_), Place::Migrations) => dev,
                (Place::PluginHost, Place::PluginApi | Place::Module(_)) => {
                    matches!(to, Place::PluginApi)
                        || matches!(to, Place::Module(m) if m == "kernel")
                }
                (Place::Plugin | Place::TestPlugin, Place::PluginApi) => true,
                // The host's tests load the real plugin files; the dev edge makes cargo build them.
                (Place::PluginHost, Place::Plugin | Place::TestPlugin) => dev,
                _ => false,
            };
            if !ok {
                violations.push(format!(
                    "{} ({from:?}) must not depend on {} ({to:?}){}",
                    package.name,
                    dep.name,
                    if dev { " even as a dev-dependency" } else { "" }
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "dependency rule violations:\n{}",
        violations.join("\n")
    );
}

/// True when the code uses the `unsafe` keyword for a block, function or impl.
fn opens_unsafe(code: &str) -> bool {
    code.match_indices("unsafe").any(|(at, _)| {
        let before_ok = code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = &code[at + "unsafe".len()..];
        before_ok
            && (after.starts_with(" {") || after.starts_with(" fn") || after.starts_with(" impl"))
    })
}

/// The line without the contents of string literals (so talk about `unsafe` is not unsafe).
fn strip_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else {
            out.push(c);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" && name != "fuzz" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn unsafe_code_lives_only_in_the_plugin_host_and_abi_with_safety_notes() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let allowed = [root.join("plugins/host"), root.join("plugins/api")];
    let mut violations = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = strip_strings(line.split("//").next().unwrap_or(""));
            let opens_unsafe = opens_unsafe(&code);
            if !opens_unsafe {
                continue;
            }
            let rel = file.strip_prefix(&root).unwrap().display().to_string();
            if !allowed.iter().any(|a| file.starts_with(a)) {
                violations.push(format!(
                    "{rel}:{}: unsafe outside plugins/host and plugins/api",
                    i + 1
                ));
                continue;
            }
            let noted = lines[i.saturating_sub(6)..=i]
                .iter()
                .any(|l| l.contains("SAFETY:") || l.contains("# Safety"));
            if !noted {
                violations.push(format!("{rel}:{}: unsafe without a // SAFETY: note", i + 1));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
