//! Taking a device off the router: its IP binding, active session, host entry and status-list
//! address. One place for it, so a logout (auth) and a removal from the portal leave the same
//! router behind.

use lpsaring_kernel::ports::router::Router;

use crate::api::Device;

/// Removes `device`'s rows from the router; `lists` are every status list an address may be
/// on. Best effort: each failed step is logged and counted, and the count returned.
pub async fn release_from_router(router: &dyn Router, lists: &[String], device: &Device) -> usize {
    let mac = device.mac;
    let steps = [
        router.remove_ip_binding(mac).await.map(|_| ()),
        router.remove_active_by_mac(mac).await.map(|_| ()),
        router.remove_hosts_by_mac(mac).await.map(|_| ()),
    ];
    let mut failures = 0;
    for step in steps {
        if let Err(e) = step {
            failures += 1;
            tracing::warn!(%mac, error = %e, "router clean-up step failed");
        }
    }
    if let Some(ip) = device.ip
        && let Err(e) = router.remove_address(ip, lists).await
    {
        failures += 1;
        tracing::warn!(%ip, error = %e, "address-list clean-up failed");
    }
    failures
}
