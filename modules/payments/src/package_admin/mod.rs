//! Packages as the admin manages them (issue 18, "Packages"): every change audited (actor,
//! action, target, the package's name and price), the list as CSV, and the router's hotspot
//! profiles read live through the Router port for the profile field. The `/admin/packages`
//! pages are in [`pages`]; the JSON CRUD (`/api/admin/packages`) calls the same methods.

pub(crate) mod pages;
mod views;

use std::time::Duration;

use lpsaring_kernel::UserId;
use lpsaring_kernel::csv::CsvWriter;
use lpsaring_kernel::ports::audit::AuditEntry;
use serde_json::json;

use crate::api::{Package, PackageInput, Removed};
use crate::error::PaymentsError;
use crate::service::Service;

/// How long the profile field waits for the router before it falls back to free text.
const PROFILES_TIMEOUT: Duration = Duration::from_secs(3);

/// The router's hotspot user profiles, read now, or why they could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profiles {
    Live(Vec<String>),
    /// No router configured, or it did not answer in time: the field is free text.
    Unavailable,
}

/// The package CSV's columns.
const PACKAGE_COLUMNS: &[&str] = &[
    "id",
    "name",
    "description",
    "price",
    "quota_bytes",
    "unlimited",
    "validity_hours",
    "hotspot_profile",
    "sort_order",
    "is_active",
];

fn details(p: &Package) -> serde_json::Value {
    json!({"name": p.name, "price": p.price, "is_active": p.is_active})
}

impl Service {
    /// The router's hotspot profiles, live (a few seconds at most).
    pub async fn router_profiles(&self) -> Profiles {
        let Some(router) = &self.router else {
            return Profiles::Unavailable;
        };
        match tokio::time::timeout(PROFILES_TIMEOUT, router.hotspot_profiles()).await {
            Ok(Ok(mut names)) => {
                names.sort();
                names.dedup();
                Profiles::Live(names)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "hotspot profiles could not be read");
                Profiles::Unavailable
            }
            Err(_) => {
                tracing::warn!("hotspot profiles: the router did not answer in time");
                Profiles::Unavailable
            }
        }
    }

    async fn audit_package(&self, actor: UserId, action: &str, p: &Package) {
        self.audit(
            AuditEntry::new(action)
                .actor(actor)
                .target(format!("package:{}", p.id))
                .details(details(p)),
        )
        .await;
    }

    /// [`Service::create_package`] by an admin, audited.
    pub async fn create_package_by(
        &self,
        actor: UserId,
        input: &PackageInput,
    ) -> Result<Package, PaymentsError> {
        let created = self.create_package(input).await?;
        self.audit_package(actor, "package.create", &created).await;
        Ok(created)
    }

    /// [`Service::update_package`] by an admin, audited.
    pub async fn update_package_by(
        &self,
        actor: UserId,
        id: i64,
        input: &PackageInput,
    ) -> Result<Package, PaymentsError> {
        let updated = self.update_package(id, input).await?;
        self.audit_package(actor, "package.update", &updated).await;
        Ok(updated)
    }

    /// Takes a package off sale for an admin, audited.
    pub async fn deactivate_package_by(
        &self,
        actor: UserId,
        id: i64,
    ) -> Result<Package, PaymentsError> {
        let off = self.disable_package(id).await?;
        self.audit_package(actor, "package.deactivate", &off).await;
        Ok(off)
    }

    /// [`Service::remove_package`] by an admin, audited with what it did.
    pub async fn remove_package_by(
        &self,
        actor: UserId,
        id: i64,
    ) -> Result<Removed, PaymentsError> {
        let before = self.package(id).await?;
        let removed = self.remove_package(id).await?;
        let action = match removed {
            Removed::Deleted => "package.delete",
            Removed::Deactivated => "package.deactivate",
        };
        self.audit_package(actor, action, &before).await;
        Ok(removed)
    }

    /// Every package as CSV (formulas neutralised by the kernel's writer).
    pub async fn packages_csv(&self) -> Result<CsvWriter, PaymentsError> {
        let mut csv = CsvWriter::with_header(PACKAGE_COLUMNS);
        for p in self.all_packages().await? {
            csv.row([
                p.id.to_string(),
                p.name,
                p.description.unwrap_or_default(),
                p.price.to_string(),
                p.quota_bytes.to_string(),
                p.unlimited.to_string(),
                p.validity_hours.to_string(),
                p.hotspot_profile.unwrap_or_default(),
                p.sort_order.to_string(),
                p.is_active.to_string(),
            ]);
        }
        Ok(csv)
    }
}
