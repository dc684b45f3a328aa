//! The configuration menus router set-up reads and writes
//! ([`Router::config_rows`](lpsaring_kernel::ports::Router::config_rows) and
//! [`Router::apply_config`](lpsaring_kernel::ports::Router::apply_config)).

use lpsaring_kernel::ports::router::{ConfigMenu, ConfigRow, ConfigWrite, RouterError};
use lpsaring_kernel::ports::router_config::is_login_page;

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

    /// Checks every write first (menu writable, a `Set` row ours as the router has it now, a
    /// file a hotspot login page), then sends them pipelined and fails with the first error.
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
            let mut name = attrs.get("name").cloned();
            if let Some(id) = id {
                let current = self
                    .rows(cmd(menu.path(), "print").eq(".id", id.clone()))
                    .await?;
                let what = format!("{} {id}", menu.path());
                if menu.commented() {
                    check_ours(current.first(), &what)?;
                } else {
                    let row = current.first().ok_or_else(|| RouterError::Trap {
                        category: Some(1),
                        message: format!("no such item ({what})"),
                    })?;
                    name = row.get("name").cloned().or(name);
                }
                c = c.attr(".id", id);
            }
            if !menu.commented() && !name.as_deref().is_some_and(is_login_page) {
                return Err(RouterError::NotOurs(format!(
                    "{} {}: only hotspot login pages are written",
                    menu.path(),
                    name.unwrap_or_default()
                )));
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
