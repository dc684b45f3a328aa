//! Planning and sending a batch of [`RouterWrite`]s (the sync's enforce step): each menu a write
//! touches is printed once, every write is checked against those rows (ours? already so?), and
//! the commands left are pipelined on the one connection.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use lpsaring_kernel::Mac;
use lpsaring_kernel::ports::router::{BindingType, OwnedComment, RouterError, RouterWrite};

use crate::client::{Cmd, Row};
use crate::ops::{ADDRESS_LIST, BINDING, RouterOsClient, USER, cmd};
use crate::parse::{BINDING_PROPLIST, ENTRY_PROPLIST, USER_PROPLIST, get, id, ip, ours, parse_mac};

/// Result of comparing a write with its prefetched target.
pub(crate) fn check_ours(row: Option<&Row>, what: &str) -> Result<(), RouterError> {
    match row {
        Some(r) if ours(r).is_some() => Ok(()),
        Some(_) => Err(RouterError::NotOurs(what.to_owned())),
        None => Err(RouterError::Trap {
            category: Some(1),
            message: format!("no such item ({what})"),
        }),
    }
}

/// Indexes rows by one property. Built once per batch: a first run after install plans tens of
/// thousands of writes, and a linear search per write would make applying them quadratic. The
/// first row wins when a key repeats, as a front-to-back search would pick.
fn index_by(rows: &[Row], key: &str) -> HashMap<String, usize> {
    let mut out = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        if let Some(k) = get(r, key) {
            out.entry(k.to_owned()).or_insert(i);
        }
    }
    out
}

impl RouterOsClient {
    /// The command that makes `mac`'s binding `kind` with `comment`, given its current row;
    /// `None` when it already is so, `NotOurs` for an operator's binding.
    pub(crate) fn binding_write(
        &self,
        existing: Option<&Row>,
        mac: Mac,
        kind: BindingType,
        comment: &OwnedComment,
    ) -> Result<Option<Cmd>, RouterError> {
        let rendered = comment.render();
        match existing {
            Some(row) => {
                if ours(row).is_none() {
                    return Err(RouterError::NotOurs(format!("ip-binding for {mac}")));
                }
                if get(row, "type") == Some(kind.as_str())
                    && get(row, "comment") == Some(rendered.as_str())
                {
                    return Ok(None);
                }
                Ok(Some(
                    cmd(BINDING, "set")
                        .attr(".id", id(row)?)
                        .attr("type", kind.as_str())
                        .attr("comment", rendered),
                ))
            }
            None => Ok(Some(
                cmd(BINDING, "add")
                    .attr("mac-address", mac.to_string())
                    .attr("type", kind.as_str())
                    .attr("server", self.link.settings.hotspot_server.clone())
                    .attr("comment", rendered),
            )),
        }
    }

    /// Prints `menu` when some write needs its rows, nothing otherwise.
    async fn prefetch(
        &self,
        needed: bool,
        menu: &str,
        props: &[&str],
    ) -> Result<Vec<Row>, RouterError> {
        if !needed {
            return Ok(Vec::new());
        }
        self.rows(cmd(menu, "print").proplist(props)).await
    }

    /// [`Router::apply`](lpsaring_kernel::ports::Router::apply): one result per write, in order;
    /// the outer error is a connectivity failure that stopped the batch.
    pub(crate) async fn apply_writes(
        &self,
        writes: &[RouterWrite],
    ) -> Result<Vec<Result<(), RouterError>>, RouterError> {
        let needs = |f: fn(&RouterWrite) -> bool| writes.iter().any(f);
        // Prefetch what the writes must be checked against, once per menu.
        let bindings = self
            .prefetch(
                needs(|w| {
                    matches!(
                        w,
                        RouterWrite::UpsertBinding { .. } | RouterWrite::RemoveBinding { .. }
                    )
                }),
                BINDING,
                &BINDING_PROPLIST,
            )
            .await?;
        let addresses = self
            .prefetch(
                needs(|w| {
                    matches!(
                        w,
                        RouterWrite::RemoveAddress { .. } | RouterWrite::AddAddress { .. }
                    )
                }),
                ADDRESS_LIST,
                &ENTRY_PROPLIST,
            )
            .await?;
        let users = self
            .prefetch(
                needs(|w| matches!(w, RouterWrite::SetUserProfile { .. })),
                USER,
                &USER_PROPLIST,
            )
            .await?;
        let binding_ids = index_by(&bindings, ".id");
        let address_ids = index_by(&addresses, ".id");
        let user_names = index_by(&users, "name");
        let mut binding_macs: HashMap<Mac, usize> = HashMap::with_capacity(bindings.len());
        for (i, r) in bindings.iter().enumerate() {
            if let Some(mac) = get(r, "mac-address").and_then(parse_mac) {
                binding_macs.entry(mac).or_insert(i);
            }
        }
        let listed: HashSet<(&str, Ipv4Addr)> = addresses
            .iter()
            .filter_map(|r| Some((get(r, "list")?, ip(r, "address")?)))
            .collect();
        let by_id = |rows: &[Row], ids: &HashMap<String, usize>, wanted: &str| {
            ids.get(wanted).map(|&i| rows[i].clone())
        };

        // Each write becomes at most one command; writes needing none (already so, or refused)
        // get their result now.
        let mut results: Vec<Option<Result<(), RouterError>>> = Vec::with_capacity(writes.len());
        let mut cmds = Vec::new();
        let mut slots = Vec::new();
        for (index, write) in writes.iter().enumerate() {
            let planned: Result<Option<Cmd>, RouterError> = match write {
                RouterWrite::UpsertBinding { mac, kind, comment } => {
                    let existing = binding_macs.get(mac).map(|&i| &bindings[i]);
                    self.binding_write(existing, *mac, *kind, comment)
                }
                RouterWrite::RemoveBinding { id } => check_ours(
                    by_id(&bindings, &binding_ids, id).as_ref(),
                    &format!("ip-binding {id}"),
                )
                .map(|()| Some(cmd(BINDING, "remove").attr(".id", id.clone()))),
                RouterWrite::AddAddress {
                    list,
                    address,
                    comment,
                } => {
                    let present = listed.contains(&(list.as_str(), *address));
                    Ok((!present).then(|| {
                        cmd(ADDRESS_LIST, "add")
                            .attr("list", list.clone())
                            .attr("address", address.to_string())
                            .attr("comment", comment.render())
                    }))
                }
                RouterWrite::RemoveAddress { id } => check_ours(
                    by_id(&addresses, &address_ids, id).as_ref(),
                    &format!("address-list entry {id}"),
                )
                .map(|()| Some(cmd(ADDRESS_LIST, "remove").attr(".id", id.clone()))),
                RouterWrite::SetUserProfile { name, profile } => {
                    let row = user_names.get(name.as_str()).map(|&i| &users[i]);
                    check_ours(row, &format!("hotspot user {name}")).and_then(|()| match row {
                        Some(r) if get(r, "profile") != Some(profile.as_str()) => Ok(Some(
                            cmd(USER, "set")
                                .attr(".id", id(r)?)
                                .attr("profile", profile.clone()),
                        )),
                        _ => Ok(None),
                    })
                }
            };
            match planned {
                Ok(Some(c)) => {
                    cmds.push(c);
                    slots.push(index);
                    results.push(None);
                }
                Ok(None) => results.push(Some(Ok(()))),
                Err(e) => results.push(Some(Err(e))),
            }
        }
        if !cmds.is_empty() {
            let outcomes = self.link.run_many(&cmds).await?;
            for (slot, outcome) in slots.into_iter().zip(outcomes) {
                results[slot] = Some(outcome.map(|_| ()));
            }
        }
        Ok(results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect())
    }
}
