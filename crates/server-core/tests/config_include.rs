//! `include FILE;`: relative to the including file, errors point into the
//! included file, cycles and runaway nesting are refused.

use std::path::{Path, PathBuf};

use server_core::config;

/// A fresh directory under the system temp dir for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtmp-config-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn include_is_relative_to_the_including_file() {
    let dir = scratch("relative");
    let main = write(
        &dir,
        "main.conf",
        "listen 1935;\ninclude sub/vhosts.conf;\n",
    );
    write(
        &dir,
        "sub/vhosts.conf",
        "vhost a {\n  include a-play.conf;\n}\nvhost b {}\n",
    );
    write(&dir, "sub/a-play.conf", "play { gop_cache off; }\n");
    let c = config::load(&main).unwrap();
    assert_eq!(c.vhosts.len(), 2);
    assert!(!c.vhost("a").play.gop_cache);
    assert!(c.vhost("b").play.gop_cache);
}

#[test]
fn several_files_in_one_include() {
    let dir = scratch("several");
    let main = write(&dir, "main.conf", "include a.conf b.conf;");
    write(&dir, "a.conf", "vhost a {}");
    write(&dir, "b.conf", "vhost b {}");
    let c = config::load(&main).unwrap();
    let names: Vec<&str> = c.vhosts.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b"]);
}

#[test]
fn errors_point_into_the_included_file() {
    let dir = scratch("errors");
    let main = write(&dir, "main.conf", "listen 1935;\ninclude inc.conf;\n");
    let inc = write(&dir, "inc.conf", "\n\nvhost a { play { gop_cache 2; } }\n");
    let e = config::load(&main).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:3: invalid value '2' for 'gop_cache': expected on or off",
            inc.display()
        )
    );
    // Duplicates across files name both places.
    let main = write(&dir, "dup.conf", "listen 1;\ninclude dup-inc.conf;\n");
    let inc = write(&dir, "dup-inc.conf", "listen 2;\n");
    let e = config::load(&main).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:1: duplicate directive 'listen' (first at {}:1)",
            inc.display(),
            main.display()
        )
    );
}

#[test]
fn missing_include_names_the_including_line() {
    let dir = scratch("missing");
    let main = write(&dir, "main.conf", "\n\ninclude nope.conf;\n");
    let e = config::load(&main).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:3: cannot read '", main.display())),
        "{e}"
    );
    let e = config::load(&dir.join("absent.conf"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{}: cannot read",
            dir.join("absent.conf").display()
        )),
        "{e}"
    );
}

#[test]
fn cycles_are_refused() {
    let dir = scratch("cycle");
    let a = write(&dir, "a.conf", "include b.conf;\n");
    let b = write(&dir, "b.conf", "vhost x {}\ninclude a.conf;\n");
    let e = config::load(&a).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:2: include cycle: '{}' is already being included",
            b.display(),
            dir.join("a.conf").display()
        )
    );
    let selfish = write(&dir, "self.conf", "include ./self.conf;");
    assert!(config::load(&selfish)
        .unwrap_err()
        .to_string()
        .contains("include cycle"));
}

#[test]
fn the_same_file_twice_is_not_a_cycle() {
    let dir = scratch("twice");
    let main = write(
        &dir,
        "main.conf",
        "vhost a { include p.conf; }\nvhost b { include p.conf; }",
    );
    write(&dir, "p.conf", "tcp_nodelay on;");
    let c = config::load(&main).unwrap();
    assert!(c.vhost("a").tcp_nodelay && c.vhost("b").tcp_nodelay);
}

#[test]
fn include_depth_is_bounded() {
    let dir = scratch("depth");
    let n = config::MAX_INCLUDE_DEPTH + 2;
    for i in 0..n {
        write(
            &dir,
            &format!("{i}.conf"),
            &format!("include {}.conf;", i + 1),
        );
    }
    write(&dir, &format!("{n}.conf"), "vhost a {}");
    let e = config::load(&dir.join("0.conf")).unwrap_err().to_string();
    assert!(e.contains("includes nested deeper than"), "{e}");

    // A chain within the bound works.
    let ok = scratch("depth-ok");
    let m = config::MAX_INCLUDE_DEPTH - 1;
    for i in 0..m {
        write(
            &ok,
            &format!("{i}.conf"),
            &format!("include {}.conf;", i + 1),
        );
    }
    write(&ok, &format!("{m}.conf"), "vhost a {}");
    assert!(config::load(&ok.join("0.conf")).is_ok());
}

#[test]
fn parse_str_resolves_includes_next_to_its_name() {
    let dir = scratch("parse-str");
    write(&dir, "v.conf", "vhost v {}");
    let name = dir.join("virtual.conf");
    let c = config::parse_str(name.to_str().unwrap(), "include v.conf;").unwrap();
    assert!(c.find_vhost("v").is_some());
}
