//! The login that puts a phone online (seed diagram 3): check the code, ask the router which MAC
//! is behind the client IP, register the device, consume the code, bind the MAC on the router,
//! put the IP on its one status list, record the login.
//!
//! The IP and MAC from MikroTik's redirect are hints: the router is asked, and a MAC that
//! disagrees is refused. The code is consumed only after everything that may fail for reasons
//! outside the user's control, and restored if the router fails after that, so a router outage
//! never burns a code.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use lpsaring_devices::Takeover;
use lpsaring_devices::api::Registration;
use lpsaring_kernel::ports::access::{AccessPolicy, AccessStatus};
use lpsaring_kernel::ports::router::{BindingType, HotspotUserSpec, OwnedComment, Router};
use lpsaring_kernel::ports::users::UserFacts;
use lpsaring_kernel::{Clock, Mac, Phone, UserId};
use rand::RngCore;

use crate::error::AuthError;
use crate::otp::{CheckedCode, Otp};
use crate::users::{LoginMethod, Users};

/// Everything a code login attempt brings.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub phone: Phone,
    pub code: String,
    pub device: ClientDevice,
}

/// Where a login comes from: the device hints and the request's own facts.
#[derive(Debug, Clone, Default)]
pub struct ClientDevice {
    /// The hotspot client IP from the router's redirect (`ip` / `client_ip`); `None` outside
    /// the hotspot.
    pub client_ip: Option<Ipv4Addr>,
    /// The MAC from the redirect; a hint to compare, never trusted alone.
    pub client_mac: Option<Mac>,
    pub confirm_takeover: bool,
    pub request_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// What proved who the user is. A one-time code is consumed only once everything that may fail
/// for reasons outside the user's control went through, and restored if the router fails; a
/// voucher stays valid for its account's later logins, so there is nothing to spend.
enum Proof {
    Code(CheckedCode),
    Voucher,
}

/// The device side of a successful login.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BoundDevice {
    pub mac: Mac,
    pub ip: Ipv4Addr,
    pub binding: BindingType,
    pub address_list: String,
    pub newly_added: bool,
}

/// Credentials the page posts to MikroTik's `link-login-only` when the binding is `regular`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HotspotCredentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub user: UserFacts,
    pub status: AccessStatus,
    pub device: Option<BoundDevice>,
    pub hotspot_login: Option<HotspotCredentials>,
}

pub struct CaptiveDeps {
    pub users: Arc<Users>,
    pub otp: Arc<Otp>,
    pub devices: Arc<lpsaring_devices::Service>,
    pub router: Arc<dyn Router>,
    pub access: Arc<dyn AccessPolicy>,
    pub clock: Arc<dyn Clock>,
}

pub struct Captive {
    d: CaptiveDeps,
}

/// A fresh hotspot password for one binding: 96 random bits, set on the router's hotspot user at
/// each login and kept nowhere else, so a password seen once (a cached page, a hostile
/// `link-login-only`) is worthless after the next login.
fn new_hotspot_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Refuses users who may not log in at all, with a message saying what to do.
pub fn ensure_may_log_in(user: &UserFacts) -> Result<(), AuthError> {
    if user.blocked {
        Err(AuthError::UserBlocked)
    } else if !user.approved {
        Err(AuthError::UserUnapproved)
    } else if !user.active {
        Err(AuthError::UserInactive)
    } else {
        Ok(())
    }
}

impl Captive {
    pub fn new(deps: CaptiveDeps) -> Self {
        Self { d: deps }
    }

    pub async fn login(&self, req: LoginRequest) -> Result<LoginOutcome, AuthError> {
        let user = self
            .d
            .users
            .find(&req.phone)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        ensure_may_log_in(&user)?;
        let checked = self.d.otp.check(&req.phone, &req.code).await?;
        self.complete(user, Proof::Code(checked), req.device).await
    }

    /// The login of a voucher's account (the code was checked by the voucher port): the same
    /// router-verified MAC, device limit and binding as a code login.
    pub async fn voucher_login(
        &self,
        user: UserFacts,
        device: ClientDevice,
    ) -> Result<LoginOutcome, AuthError> {
        ensure_may_log_in(&user)?;
        self.complete(user, Proof::Voucher, device).await
    }

    async fn spend(&self, proof: &Proof) -> Result<(), AuthError> {
        match proof {
            Proof::Code(checked) => self.d.otp.consume(checked).await,
            Proof::Voucher => Ok(()),
        }
    }

    /// Binds the device behind the hotspot (when the request comes from there), spends the
    /// proof and records the login.
    async fn complete(
        &self,
        user: UserFacts,
        proof: Proof,
        req: ClientDevice,
    ) -> Result<LoginOutcome, AuthError> {
        let method = |hotspot: bool| match (&proof, hotspot) {
            (Proof::Voucher, _) => LoginMethod::Voucher,
            (Proof::Code(_), true) => LoginMethod::Captive,
            (Proof::Code(_), false) => LoginMethod::Otp,
        };
        let Some(ip) = req.client_ip else {
            self.spend(&proof).await?;
            let status = self
                .d
                .access
                .status_of(&user)
                .await
                .map_err(AuthError::Internal)?;
            self.d
                .users
                .record_login(
                    user.id,
                    method(false),
                    req.request_ip.map(|i| i.to_string()),
                    None,
                    req.user_agent,
                )
                .await?;
            return Ok(LoginOutcome {
                user,
                status,
                device: None,
                hotspot_login: None,
            });
        };

        // The router, not the redirect, says which device is behind the IP.
        let Some(mac) = self.d.router.mac_for_ip(ip).await? else {
            return Err(AuthError::Validation(
                "the hotspot does not see a device with this IP; reconnect to the Wi-Fi and try again".to_owned(),
            ));
        };
        if req.client_mac.is_some_and(|hint| hint != mac) {
            tracing::warn!(%ip, router_mac = %mac, "client MAC hint disagrees with the router");
            return Err(AuthError::MacMismatch);
        }

        let registration = self
            .register_device(&user, mac, ip, req.confirm_takeover)
            .await?;
        self.spend(&proof).await?;

        match self.bind(&user, mac, ip, &registration).await {
            Ok((status, device, hotspot_login)) => {
                self.d
                    .users
                    .record_login(
                        user.id,
                        method(true),
                        Some(ip.to_string()),
                        Some(mac),
                        req.user_agent,
                    )
                    .await?;
                Ok(LoginOutcome {
                    user,
                    status,
                    device: Some(device),
                    hotspot_login,
                })
            }
            Err(e) => {
                // The device row stays (re-registering is idempotent); the code comes back.
                if let Proof::Code(checked) = &proof {
                    self.d.otp.restore(checked).await?;
                }
                Err(e)
            }
        }
    }

    async fn register_device(
        &self,
        user: &UserFacts,
        mac: Mac,
        ip: Ipv4Addr,
        confirm: bool,
    ) -> Result<Registration, AuthError> {
        let mut takeover = Takeover {
            confirmed: confirm,
            owner_online: false,
        };
        if let Some(existing) = self.d.devices.find_by_mac(mac).await?
            && existing.user_id != user.id
        {
            let window = Duration::seconds(self.d.devices.policy().online_window_secs);
            takeover.owner_online = self.d.clock.now() - existing.last_seen_at < window;
        }
        // Only bytes from now on are this user's: the device's counters so far become its
        // baseline before it is registered, so no sync run meets it registered without one.
        self.d
            .access
            .meter_from_now(user.id, mac)
            .await
            .map_err(AuthError::Internal)?;
        Ok(self
            .d
            .devices
            .register_for_login(user.id, mac, Some(ip), takeover)
            .await?)
    }

    async fn bind(
        &self,
        user: &UserFacts,
        mac: Mac,
        ip: Ipv4Addr,
        registration: &Registration,
    ) -> Result<(AccessStatus, BoundDevice, Option<HotspotCredentials>), AuthError> {
        let status = self
            .d
            .access
            .status_of(user)
            .await
            .map_err(AuthError::Internal)?;
        let placement = self.d.access.placement(status);
        let comment = OwnedComment::for_user(user.id).with("mac", &mac.to_string());
        for gone in &registration.evicted {
            if let Err(e) = self.d.router.remove_ip_binding(gone.mac).await {
                tracing::warn!(mac = %gone.mac, error = %e, "could not remove the binding of an evicted device");
            }
        }
        self.d
            .router
            .upsert_ip_binding(mac, placement.binding, &comment)
            .await?;
        self.d
            .router
            .set_status_list(ip, &placement.address_list, &placement.all_lists, &comment)
            .await?;
        let hotspot_login = if placement.binding == BindingType::Regular {
            let credentials = HotspotCredentials {
                username: user.hotspot_name(),
                password: new_hotspot_password(),
            };
            self.d
                .router
                .upsert_hotspot_user_for_login(&HotspotUserSpec {
                    name: credentials.username.clone(),
                    password: credentials.password.clone(),
                    profile: placement.profile.clone(),
                    limit_bytes_total: None,
                    limit_uptime_secs: None,
                    comment: comment.clone(),
                })
                .await?;
            Some(credentials)
        } else {
            None
        };
        let device = BoundDevice {
            mac,
            ip,
            binding: placement.binding,
            address_list: placement.address_list,
            newly_added: registration.newly_added,
        };
        Ok((status, device, hotspot_login))
    }

    /// Binds a device from the portal ("bind this device"): the session stands in for the login
    /// code; the same rules (takeover, limit) and the same router rows as a captive login.
    pub async fn bind_for_session(
        &self,
        user: UserId,
        mac: Mac,
        ip: Ipv4Addr,
    ) -> Result<(), AuthError> {
        let user = self
            .d
            .users
            .get(user)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        ensure_may_log_in(&user)?;
        let registration = self.register_device(&user, mac, ip, false).await?;
        self.bind(&user, mac, ip, &registration).await?;
        Ok(())
    }

    /// Removes the user's devices from the router: bindings, hosts, active sessions and status
    /// list entries. Best effort; returns how many steps failed (logout always answers).
    pub async fn release_router_state(&self, user: UserId) -> Result<usize, AuthError> {
        let devices = self.d.devices.devices_of(user).await?;
        let lists = self.d.access.placement(AccessStatus::Ok).all_lists;
        let mut failures = 0;
        for device in devices {
            failures +=
                lpsaring_devices::release_from_router(self.d.router.as_ref(), &lists, &device)
                    .await;
        }
        Ok(failures)
    }
}

#[async_trait::async_trait]
impl lpsaring_devices::api::Binder for Captive {
    async fn bind_current(
        &self,
        user: UserId,
        mac: Mac,
        ip: Ipv4Addr,
    ) -> Result<(), lpsaring_kernel::ApiError> {
        Ok(self.bind_for_session(user, mac, ip).await?)
    }
}
