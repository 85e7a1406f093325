//! The configuration the server checks with: the `connlint.toml` (or `Cargo.toml` metadata)
//! that applies to the workspace root, loaded like `connlint check` loads it, and reloaded when
//! one of those files changes.

use crate::config::{Config, FILE_NAME};
use crate::profile::Knowledge;
use std::path::Path;

/// A loaded configuration and what follows from it.
pub struct Settings {
    pub config: Config,
    /// The built-in profiles plus the configuration's declared types.
    pub knowledge: &'static Knowledge,
    /// `pool-misconfigured` thresholds.
    pub timeouts: (u128, u128),
}

impl Settings {
    /// Every default, for a workspace at `root`.
    pub fn defaults(root: &Path) -> Settings {
        Settings {
            config: Config::default_at(root.to_path_buf()),
            knowledge: Knowledge::builtin(),
            timeouts: crate::engine::DEFAULT_TIMEOUTS,
        }
    }

    /// The configuration that applies to `root`, found as `connlint check` finds it. A mistake
    /// in it is an error message (the file, line and what is wrong), for the client to show.
    pub fn load(root: &Path) -> Result<Settings, String> {
        let Some(file) = Config::discover(root) else {
            return Ok(Settings::defaults(root));
        };
        let config = Config::load(&file).map_err(|e| e.render(false))?;
        let knowledge = config.knowledge().map_err(|e| e.render(false))?;
        let timeouts = crate::configured::pool_timeouts(&config)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(Settings {
            config,
            knowledge,
            timeouts,
        })
    }

    /// Is the rule (or diagnostic) `id` on?
    pub fn enabled(&self, id: &str) -> bool {
        !self.config.is_off(id)
    }
}

/// Is `path` a file the configuration can come from?
pub fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n == FILE_NAME || n == "Cargo.toml")
}
