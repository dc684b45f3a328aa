//! The configuration menus router set-up reads and writes
//! ([`Router::config_rows`](lpsaring_kernel::ports::Router::config_rows) and
//! [`Router::apply_config`](lpsaring_kernel::ports::Router::apply_config)).

use lpsaring_kernel::ports::router::{ConfigMenu, ConfigRow, ConfigWrite, RouterError};

use crate::apply::check_ours;
use crate::client::Cmd;
use crate::ops::{RouterOsClient, cmd};
use crate::parse::id;

impl RouterOsClient {
    pub(crate) async fn read_config(
        &self,
        menu: ConfigMenu,
    ) -> Result<Vec<ConfigRow>, RouterError> {
        let rows = self.rows(cmd(menu.path(), "print")).await?;
        rows.into_iter()
            .map(|row| {
                let id = id(&row)?;
                let attrs = row.into_iter().filter(|(k, _)| k != ".id").collect();
                Ok(ConfigRow { id, attrs })
            })
            .collect()
    }

    /// Checks every write first (menu writable, a `Set` row ours as the router has it now), then
    /// sends them pipelined and fails with the first error.
    pub(crate) async fn write_config(&self, writes: Vec<ConfigWrite>) -> Result<(), RouterError> {
        let mut cmds = Vec::with_capacity(writes.len());
        for write in writes {
            let (menu, verb, id, attrs) = match write {
                ConfigWrite::Add { menu, attrs } => (menu, "add", None, attrs),
                ConfigWrite::Set { menu, id, attrs } => (menu, "set", Some(id), attrs),
            };
            if !menu.writable() {
                return Err(RouterError::NotOurs(format!(
                    "{} is read-only",
                    menu.path()
                )));
            }
            let mut c: Cmd = cmd(menu.path(), verb);
            if let Some(id) = id {
                let current = self
                    .rows(cmd(menu.path(), "print").eq(".id", id.clone()))
                    .await?;
                check_ours(current.first(), &format!("{} {id}", menu.path()))?;
                c = c.attr(".id", id);
            }
            for (k, v) in attrs {
                c = c.attr(&k, v);
            }
            cmds.push(c);
        }
        if cmds.is_empty() {
            return Ok(());
        }
        for result in self.link.run_many(&cmds).await? {
            result?;
        }
        Ok(())
    }
}
