//! `lpsaring plugins list|check`: what the plugin folder holds and whether a file would load.

use std::path::PathBuf;

use clap::Subcommand;

use super::CliError;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Every plugin file in `[plugins] dir`: loaded, or refused and why.
    List,
    /// Would this file load? Exit 0 if yes, otherwise non-zero with the reason.
    Check { file: PathBuf },
}

pub fn run(settings: &Settings, command: PluginsCommand) -> Result<(), CliError> {
    match command {
        PluginsCommand::List => {
            let dir = &settings.plugins.dir;
            let reports = lpsaring_plugin_host::list(dir);
            if reports.is_empty() {
                println!("No plugin files in {}.", dir.display());
                return Ok(());
            }
            println!(
                "{:<22} {:<10} {:<9} {:<8} file",
                "name", "kind", "version", "state"
            );
            for r in &reports {
                let (name, kind, version) = match &r.manifest {
                    Some(m) => (
                        m.name.clone(),
                        format!("{:?}", m.kind).to_lowercase(),
                        m.version.clone(),
                    ),
                    None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
                };
                let state = match &r.refused {
                    None => "loaded".to_owned(),
                    Some(reason) => format!("refused: {reason}"),
                };
                println!(
                    "{name:<22} {kind:<10} {version:<9} {state:<8} {}",
                    r.file.display()
                );
            }
            Ok(())
        }
        PluginsCommand::Check { file } => match lpsaring_plugin_host::check(&file) {
            Ok(m) => {
                println!(
                    "{}: would load: {} {} ({:?})",
                    file.display(),
                    m.name,
                    m.version,
                    m.kind
                );
                Ok(())
            }
            Err(reason) => Err(CliError::Failed(format!(
                "{}: refused: {reason}",
                file.display()
            ))),
        },
    }
}
