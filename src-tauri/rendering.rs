//! How the web view draws on Linux without a graphics processor it can use: a virtual machine, a
//! remote desktop, a computer whose GPU driver is missing.
//!
//! WebKitGTK's painter, Skia, then still paints through OpenGL, and Mesa runs that OpenGL on the
//! CPU (`llvmpipe`). `WEBKIT_SKIA_ENABLE_CPU_RENDERING=1` makes Skia paint with its own CPU
//! rasterizer instead, which is made for it. Measured on such a machine (2 cores, no `/dev/dri`),
//! each way side by side in one run (scripts/bench-app.sh, scripts/bench-window.sh): idle memory at
//! start 303 → 278 MiB (PSS of the app and WebKit's processes), and about 380 → 335 MiB after the
//! demo workspace is opened; the first screen painted sooner; a 2,000-address batch as fast and as
//! smooth (page lag p95 21–23 ms against 23–34).
//!
//! Not used: `WEBKIT_DISABLE_DMABUF_RENDERER=1`. It saves about 100 MiB more and makes the batch
//! faster, but WebKit then paints on the page's own thread, and the page lag p95 rose to 78–96 ms.
//!
//! With a usable GPU render node nothing is changed: the GPU does that work better. A value the
//! owner set (`=0` as well) is always kept.

use std::path::Path;

/// WebKit's switches for drawing without a GPU, and their values.
const SOFTWARE_RENDERING: [(&str, &str); 1] = [("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1")];

/// The variables to set before the web view starts: none with a usable GPU, and never one the
/// owner set already.
pub fn software_rendering_env(
    gpu_usable: bool,
    already_set: impl Fn(&str) -> bool,
) -> Vec<(&'static str, &'static str)> {
    if gpu_usable {
        return Vec::new();
    }
    SOFTWARE_RENDERING
        .into_iter()
        .filter(|(name, _)| !already_set(name))
        .collect()
}

/// Whether a GPU render node under `dri` (normally `/dev/dri`) can be opened for drawing: what
/// Mesa needs to draw with the GPU rather than on the CPU.
pub fn gpu_render_node_usable(dri: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dri) else {
        return false;
    };
    entries.flatten().any(|e| {
        e.file_name().to_string_lossy().starts_with("renderD")
            && std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(e.path())
                .is_ok()
    })
}

/// Sets the switch for drawing without a GPU, if this computer has none usable. Runs first in
/// `main`, before any thread exists (setting the environment is only sound then) and before
/// WebKit starts its web process, which inherits it. The log says, once it is open, whether the
/// switch is on.
pub fn prefer_cpu_drawing_without_gpu() {
    let set = software_rendering_env(gpu_render_node_usable(Path::new("/dev/dri")), |name| {
        std::env::var_os(name).is_some_and(|v| !v.is_empty())
    });
    for (name, value) in set {
        std::env::set_var(name, value);
    }
}

/// Logs the drawing switches in effect, set by [`prefer_cpu_drawing_without_gpu`] or by the
/// owner: the first thing to know about a report of slow drawing on Linux.
pub fn log_switches() {
    for (name, _) in SOFTWARE_RENDERING {
        if let Some(value) = std::env::var_os(name) {
            tracing::info!(switch = name, value = ?value, "web view drawing");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn without_a_gpu_skia_paints_on_the_cpu() {
        let set = software_rendering_env(false, |_| false);
        assert_eq!(set, vec![("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1")]);
    }

    #[test]
    fn with_a_gpu_nothing_is_changed() {
        assert!(software_rendering_env(true, |_| false).is_empty());
    }

    #[test]
    fn a_value_the_owner_set_is_kept() {
        let set = software_rendering_env(false, |name| name == "WEBKIT_SKIA_ENABLE_CPU_RENDERING");
        assert!(set.is_empty());
    }

    #[test]
    fn render_nodes_are_found_only_when_they_open() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!gpu_render_node_usable(&dir.path().join("missing")));
        // A card node alone (no render node) can't be drawn with by an unprivileged process.
        std::fs::write(dir.path().join("card0"), b"").unwrap();
        assert!(!gpu_render_node_usable(dir.path()));
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(gpu_render_node_usable(dir.path()));
    }
}
