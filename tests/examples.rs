//! Every example config in `runs/` loads and validates (static-*.toml for `dmfe static`,
//! flow-*.toml for `dmfe flow`, the others for `dmfe run`).

use dmfe::config::{FlowConfig, RunConfig, StaticConfig};

#[test]
fn example_configs_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runs");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("static-") {
            let cfg = StaticConfig::load(&path, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
            cfg.model().unwrap();
        } else if name.starts_with("flow-") {
            FlowConfig::load(&path, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            RunConfig::load(&path, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        n += 1;
    }
    assert!(n >= 9, "found {n} example configs");
}
