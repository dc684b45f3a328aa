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

/// The admin panel depends on no other module: the overview's figures and the alerts come
/// through kernel ports that each module implements and `app` wires, and each module mounts its
/// own `/admin/<area>` pages in the kernel's admin frame.
#[test]
fn admin_depends_on_no_other_module() {
    assert!(!allowed_module_edges().contains_key("admin"));
    let metadata = MetadataCommand::new()
        .current_dir(workspace_root())
        .no_deps()
        .exec()
        .expect("cargo metadata");
    let admin = metadata
        .workspace_packages()
        .into_iter()
        .find(|p| p.name.as_str() == "lpsaring-admin")
        .expect("the admin module");
    let ours: Vec<_> = admin
        .dependencies
        .iter()
        .filter(|d| d.kind == DependencyKind::Normal && d.name.starts_with("lpsaring-"))
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(ours, ["lpsaring-kernel"], "admin's own dependencies");
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

/// One Rust source file split by a small lexer: `code` is the text with comments and the
/// contents of string literals blanked (newlines kept, so byte offsets give line numbers), and
/// `strings` the string literals with the code just before each.
struct Lexed {
    code: String,
    strings: Vec<Literal>,
}

struct Literal {
    /// The literal's contents (escapes left as written).
    text: String,
    /// The non-blank code right before the literal, e.g. `table_name =`.
    before: String,
    line: usize,
}

fn lex(source: &str) -> Lexed {
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut strings = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Blanks `c` in `code`, keeping line breaks.
    let blank = |code: &mut String, c: char, line: &mut usize| {
        if c == '\n' {
            *line += 1;
            code.push('\n');
        } else {
            code.push(' ');
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                code.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    code.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    code.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut code, chars[i], &mut line);
                    i += 1;
                }
            }
        } else if c == '"'
            || (c == 'r' && matches!(next, Some('"' | '#')) && is_raw_start(&chars, i))
        {
            // A string literal: plain ("…" with escapes) or raw (r"…", r#"…"#).
            let tail: Vec<char> = code.trim_end().chars().rev().take(40).collect();
            let before: String = tail.into_iter().rev().collect();
            let start_line = line;
            let mut text = String::new();
            if c == 'r' {
                code.push(' ');
                i += 1;
                let mut hashes = 0;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    code.push(' ');
                    i += 1;
                }
                code.push('"');
                i += 1;
                while let Some(&ch) = chars.get(i) {
                    if ch == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                        code.push('"');
                        code.extend(std::iter::repeat_n(' ', hashes));
                        i += 1 + hashes;
                        break;
                    }
                    text.push(ch);
                    blank(&mut code, ch, &mut line);
                    i += 1;
                }
            } else {
                code.push('"');
                i += 1;
                while let Some(&ch) = chars.get(i) {
                    if ch == '\\' {
                        text.push(ch);
                        blank(&mut code, ch, &mut line);
                        i += 1;
                        if let Some(&esc) = chars.get(i) {
                            text.push(esc);
                            blank(&mut code, esc, &mut line);
                            i += 1;
                        }
                        continue;
                    }
                    i += 1;
                    if ch == '"' {
                        code.push('"');
                        break;
                    }
                    text.push(ch);
                    blank(&mut code, ch, &mut line);
                }
            }
            strings.push(Literal {
                text,
                before,
                line: start_line,
            });
        } else if c == '\'' {
            // A char literal ('x', '\n', '"') is blanked; a lifetime ('a) is code.
            let close = if next == Some('\\') {
                (i + 3..chars.len().min(i + 12)).find(|&k| chars[k] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(end) => {
                    code.push_str("' ");
                    code.extend(std::iter::repeat_n(' ', end - i - 1));
                    i = end + 1;
                }
                None => {
                    code.push(c);
                    i += 1;
                }
            }
        } else {
            if c == '\n' {
                line += 1;
            }
            code.push(c);
            i += 1;
        }
    }
    Lexed { code, strings }
}

/// `r` at `at` opens a raw string (`r"`, `r#"`), not an identifier ending in r (`for"` never
/// occurs, but `bar#` might in a macro).
fn is_raw_start(chars: &[char], at: usize) -> bool {
    let prev_is_ident = at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_');
    let prev_is_byte =
        at > 0 && chars[at - 1] == 'b' && (at < 2 || !chars[at - 2].is_alphanumeric());
    if prev_is_ident && !prev_is_byte {
        return false;
    }
    let mut k = at + 1;
    while chars.get(k) == Some(&'#') {
        k += 1;
    }
    chars.get(k) == Some(&'"')
}

/// Where code (comments and string contents already blanked) uses the `unsafe` keyword for a
/// block, function, impl, trait, extern block or function, or attribute (`#[unsafe(no_mangle)]`),
/// as byte offsets. An `unsafe fn(..)` / `unsafe extern "C" fn(..)` pointer *type* is not
/// unsafe code and is not reported.
fn unsafe_uses(code: &str) -> Vec<usize> {
    code.match_indices("unsafe")
        .filter(|&(at, _)| {
            let before_ok = code[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = &code[at + "unsafe".len()..];
            let after_ok = after
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            if !(before_ok && after_ok) {
                return false;
            }
            let rest = after.trim_start();
            if rest.starts_with('{') || rest.starts_with("impl") || rest.starts_with("trait") {
                return true;
            }
            if rest.starts_with('(') {
                // `#[unsafe(…)]`
                return code[..at].trim_end().ends_with("#[");
            }
            // `unsafe fn name`, `unsafe extern "C" fn name`, `unsafe extern "C" {`.
            let rest = rest.strip_prefix("extern").map_or(rest, |r| {
                let r = r.trim_start();
                // The ABI string's contents are blanked: skip `"   "`.
                match r.strip_prefix('"') {
                    Some(abi) => abi
                        .find('"')
                        .map_or(abi, |end| &abi[end + 1..])
                        .trim_start(),
                    None => r,
                }
            });
            if rest.starts_with('{') {
                return true;
            }
            match rest.strip_prefix("fn") {
                // A named function is code; `fn(` is a function-pointer type.
                Some(f) => !f.trim_start().starts_with('('),
                None => false,
            }
        })
        .map(|(at, _)| at)
        .collect()
}

/// Every `.rs` file of the workspace (build output, VCS data and fuzz corpora aside). An
/// unreadable directory fails the test: a scan that silently skips a folder proves nothing.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        let path = entry.path();
        let name = entry.file_name();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
        if kind.is_dir() {
            if name != "target" && name != ".git" && name != "fuzz" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The workspace's Rust files, read and lexed, with paths relative to the root. Fails when the
/// scan finds implausibly few files or misses a file we know exists (a scan of the wrong folder
/// passes every rule).
fn workspace_sources() -> Vec<(String, String, Lexed)> {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let sources: Vec<(String, String, Lexed)> = files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let rel = file.strip_prefix(&root).unwrap().display().to_string();
            let lexed = lex(&text);
            (rel, text, lexed)
        })
        .collect();
    for known in [
        "plugins/host/src/library.rs",
        "plugins/api/src/export.rs",
        "modules/auth/src/lib.rs",
        "migrations/src/lib.rs",
        "tests/integration/architecture.rs",
    ] {
        assert!(
            sources.iter().any(|(rel, _, _)| rel == known),
            "the scan of {} missed {known}",
            root.display()
        );
    }
    assert!(
        sources.len() >= 100,
        "only {} Rust files scanned under {}",
        sources.len(),
        root.display()
    );
    sources
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

#[test]
fn unsafe_code_lives_only_in_the_plugin_host_and_abi_with_safety_notes() {
    let allowed = ["plugins/host/", "plugins/api/"];
    let mut violations = Vec::new();
    let mut found = 0;
    for (rel, text, lexed) in workspace_sources() {
        let lines: Vec<&str> = text.lines().collect();
        for at in unsafe_uses(&lexed.code) {
            found += 1;
            let line = line_of(&lexed.code, at);
            if !allowed.iter().any(|a| rel.starts_with(a)) {
                violations.push(format!(
                    "{rel}:{line}: unsafe outside plugins/host and plugins/api"
                ));
                continue;
            }
            let noted = lines[line.saturating_sub(7)..line]
                .iter()
                .any(|l| l.contains("SAFETY:") || l.contains("# Safety"));
            if !noted {
                violations.push(format!("{rel}:{line}: unsafe without a // SAFETY: note"));
            }
        }
    }
    // The plugin host and the export glue do use unsafe: finding none means the scan is blind.
    assert!(found >= 10, "only {found} uses of unsafe found");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_unsafe_scan_sees_every_form_and_ignores_talk_and_types() {
    let uses = |src: &str| unsafe_uses(&lex(src).code).len();
    for form in [
        "unsafe { f() }",
        "let x = unsafe{ f() };",
        "unsafe fn f() {}",
        "pub unsafe extern \"C\" fn f() {}",
        "unsafe extern \"C\" { fn abs(x: i32) -> i32; }",
        "unsafe impl Send for X {}",
        "unsafe trait T {}",
        "#[unsafe(no_mangle)]",
        "#[unsafe(export_name = \"x\")]",
    ] {
        assert_eq!(uses(form), 1, "{form}");
    }
    for talk in [
        "// unsafe { f() }",
        "/* unsafe fn f() {} */",
        "let s = \"unsafe { f() }\";",
        "let s = r#\"unsafe { \"x\" }\"#;",
        "pub type CallFn = unsafe extern \"C\" fn(x: u8) -> i32;",
        "type F = unsafe fn(u8);",
        "fn drops_unsafe_or_malformed() {}",
        "#![allow(unsafe_code)]",
        "let c = '\"'; let d = '\\''; // unsafe {",
    ] {
        assert_eq!(uses(talk), 0, "{talk}");
    }
}

/// Which crate owns each table (DESIGN.md, "Ownership of tables"), by the crate's folder.
const TABLE_OWNERS: &[(&str, &str)] = &[
    ("users", "modules/auth/"),
    ("refresh_tokens", "modules/auth/"),
    ("login_history", "modules/auth/"),
    ("devices", "modules/devices/"),
    ("quota_accounts", "modules/quota/"),
    ("usage_daily", "modules/quota/"),
    ("quota_ledger", "modules/quota/"),
    ("sync_runs", "modules/quota/"),
    ("packages", "modules/payments/"),
    ("transactions", "modules/payments/"),
    ("transaction_events", "modules/payments/"),
    ("vouchers", "modules/payments/"),
    ("settings", "modules/admin/"),
    ("audit_log", "modules/admin/"),
    ("outbox", "modules/kernel/"),
    ("admin_totp", "modules/auth/"),
];

/// Files that name another crate's table, each with the reason it may.
const TABLE_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "modules/quota/tests/support/mod.rs",
        "users",
        "quota's tests read users through a UserDirectory test double; the one INSERT makes the \
         bare row the quota tables' foreign key needs, and quota may not depend on auth",
    ),
    (
        "modules/devices/src/tests.rs",
        "users",
        "devices rows need their user rows (a foreign key) and devices may not depend on auth",
    ),
    (
        "benches/benches/quota_sync.rs",
        "*",
        "seeds 10k users and 20k devices in multi-row INSERTs: through the services it would \
         take minutes before the first measurement",
    ),
    (
        "benches/src/portal.rs",
        "*",
        "the login load run seeds up to 200k users and their quota in multi-row INSERTs into the \
         portal it starts as a child process, as quota_sync does",
    ),
    (
        "tests/integration/",
        "*",
        "the whole-app tests may look at any table to check what a flow left behind",
    ),
    (
        "app/src/import/source.rs",
        "*",
        "reads the original lpsaring's own tables (users, packages, transactions) in its database; \
         our tables are written only through their owners' import functions",
    ),
];

/// SQL words after which a table name follows.
const SQL_BEFORE_TABLE: &[&str] = &["from", "into", "update", "join", "table"];

/// Where `lexed` names a table: in SQL inside a string literal (`FROM users`, `INTO "users"`),
/// or as an entity's or query's table name (`table_name = "users"`, `Alias::new("users")`,
/// `TABLE: &str = "users"`, `count_rows(db, "users")`). Returns `(line, table)`.
fn tables_named(lexed: &Lexed) -> Vec<(usize, &'static str)> {
    let mut hits = Vec::new();
    for lit in &lexed.strings {
        let words: Vec<String> = lit
            .text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        for (table, _) in TABLE_OWNERS {
            let in_sql = words
                .windows(2)
                .any(|w| SQL_BEFORE_TABLE.contains(&w[0].as_str()) && w[1] == *table);
            let as_name = lit.text == *table
                && [
                    "table_name =",
                    "Alias::new(",
                    "TABLE: &str =",
                    "count_rows(",
                ]
                .iter()
                .any(|b| lit.before.ends_with(b) || lit.before.contains(b));
            if in_sql || as_name {
                hits.push((lit.line, *table));
            }
        }
    }
    hits
}

#[test]
fn a_table_is_named_only_by_its_owner_and_the_migrations() {
    let mut violations = Vec::new();
    let mut owned_hits = 0;
    for (rel, _, lexed) in workspace_sources() {
        if rel.starts_with("migrations/") {
            continue;
        }
        for (line, table) in tables_named(&lexed) {
            let owner = TABLE_OWNERS
                .iter()
                .find(|(t, _)| *t == table)
                .map(|(_, o)| *o)
                .unwrap();
            if rel.starts_with(owner) {
                owned_hits += 1;
                continue;
            }
            let excused = TABLE_EXCEPTIONS
                .iter()
                .any(|(path, t, _)| rel.starts_with(path) && (*t == table || *t == "*"));
            if !excused {
                violations.push(format!("{rel}:{line}: names {table}, owned by {owner}"));
            }
        }
    }
    // Each owner's entities name their tables: finding none means the scan is blind.
    assert!(
        owned_hits >= 10,
        "only {owned_hits} owned table names found"
    );
    assert!(
        violations.is_empty(),
        "tables named outside their owning crate (DESIGN.md, Ownership of tables):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_table_scan_sees_sql_and_entities_but_not_prose() {
    let named = |src: &str| {
        tables_named(&lex(src))
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        named("db.execute(\"SELECT * FROM users WHERE id = 1\")"),
        ["users"]
    );
    assert_eq!(
        named("let q = r#\"INSERT INTO \"devices\" (mac) VALUES ('x')\"#;"),
        ["devices"]
    );
    assert_eq!(
        named("#[sea_orm(table_name = \"audit_log\")]"),
        ["audit_log"]
    );
    assert_eq!(named("const TABLE: &str = \"outbox\";"), ["outbox"]);
    assert_eq!(named("count_rows(&db, \"sync_runs\")"), ["sync_runs"]);
    assert_eq!(
        named("format!(\"update quota_ledger set x = 1\")"),
        ["quota_ledger"]
    );
    assert!(named("// SELECT * FROM users").is_empty());
    assert!(named("let s = \"settings\"; let t = \"the users of devices\";").is_empty());
}
