//! Per-request facts that `app`'s middleware establishes once and every module reads: the request
//! id (echoed in logs and error envelopes) and the client IP (after the trusted-proxy rules).

use std::net::IpAddr;

use salvo::Depot;

const REQUEST_ID: &str = "lpsaring.request_id";
const CLIENT_IP: &str = "lpsaring.client_ip";
const IS_HTTPS: &str = "lpsaring.is_https";

/// The id of the current request, or `-` outside the request-id middleware.
pub fn request_id(depot: &Depot) -> String {
    depot
        .get::<String>(REQUEST_ID)
        .cloned()
        .unwrap_or_else(|_| "-".to_owned())
}

pub fn set_request_id(depot: &mut Depot, id: String) {
    depot.insert(REQUEST_ID, id);
}

/// The client's address as decided by the trusted-proxy rules.
pub fn client_ip(depot: &Depot) -> Option<IpAddr> {
    depot.get::<IpAddr>(CLIENT_IP).ok().copied()
}

pub fn set_client_ip(depot: &mut Depot, ip: IpAddr) {
    depot.insert(CLIENT_IP, ip);
}

/// Whether the client reached us over HTTPS (directly or via a trusted proxy); decides `Secure`
/// on cookies.
pub fn is_https(depot: &Depot) -> bool {
    depot.get::<bool>(IS_HTTPS).ok().copied().unwrap_or(false)
}

pub fn set_is_https(depot: &mut Depot, https: bool) {
    depot.insert(IS_HTTPS, https);
}

const CURRENT_USER: &str = "lpsaring.current_user";
const CURRENT_ROLE: &str = "lpsaring.current_role";

/// The authenticated user of this request, set by auth's session middleware.
pub fn current_user(depot: &Depot) -> Option<crate::UserId> {
    depot.get::<crate::UserId>(CURRENT_USER).ok().copied()
}

/// The authenticated user's role, set together with [`current_user`].
pub fn current_role(depot: &Depot) -> Option<crate::ports::users::Role> {
    depot
        .get::<crate::ports::users::Role>(CURRENT_ROLE)
        .ok()
        .copied()
}

/// Called by auth's session middleware once the access token (or a rotated refresh token) checks.
pub fn set_current_user(depot: &mut Depot, user: crate::UserId, role: crate::ports::users::Role) {
    depot.insert(CURRENT_USER, user);
    depot.insert(CURRENT_ROLE, role);
}
