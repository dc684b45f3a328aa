//! Packages: what is for sale. A package with orders is taken off sale, never deleted (orders
//! keep pointing at it).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, SqlErr,
};

use crate::api::{Package, PackageInput, Removed};
use crate::entity::{order, package};
use crate::error::PaymentsError;
use crate::service::Service;

/// Longest validity a package may have: ten years in hours.
const MAX_VALIDITY_HOURS: i32 = 24 * 3660;

pub(crate) fn to_api(m: package::Model) -> Package {
    Package {
        id: m.id,
        name: m.name,
        description: m.description,
        price: m.price,
        quota_bytes: m.quota_bytes,
        unlimited: m.unlimited,
        validity_hours: m.validity_hours,
        hotspot_profile: m.hotspot_profile,
        sort_order: m.sort_order,
        is_active: m.is_active,
    }
}

/// Trims and checks an input; the error names the field.
pub(crate) fn clean(input: &PackageInput) -> Result<PackageInput, PaymentsError> {
    let bad = |m: &str| Err(PaymentsError::Invalid(m.to_owned()));
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return bad("name: 1 to 100 characters");
    }
    if input.price <= 0 {
        return bad("price: a positive number of rupiah");
    }
    if input.quota_bytes < 0 {
        return bad("quota_bytes: must not be negative");
    }
    if !input.unlimited && input.quota_bytes == 0 {
        return bad("quota_bytes: give a quota or make the package unlimited");
    }
    if !(1..=MAX_VALIDITY_HOURS).contains(&input.validity_hours) {
        return bad("validity_hours: between 1 hour and ten years");
    }
    let profile = input
        .hotspot_profile
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    if let Some(p) = &profile
        && (p.len() > 64 || p.chars().any(|c| c.is_control() || c == '"'))
    {
        return bad("hotspot_profile: up to 64 printable characters");
    }
    let description = input
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    Ok(PackageInput {
        name,
        description,
        price: input.price,
        quota_bytes: if input.unlimited {
            0
        } else {
            input.quota_bytes
        },
        unlimited: input.unlimited,
        validity_hours: input.validity_hours,
        hotspot_profile: profile,
        sort_order: input.sort_order,
        is_active: input.is_active,
    })
}

fn name_taken(e: sea_orm::DbErr, name: &str) -> PaymentsError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            PaymentsError::PackageNameTaken(name.to_owned())
        }
        _ => PaymentsError::Database(e),
    }
}

/// Inserts a package already through [`clean`] on `conn` (the service's connection, or an
/// import's transaction).
pub(crate) async fn insert_package(
    conn: &impl ConnectionTrait,
    input: &PackageInput,
    now: DateTime<Utc>,
) -> Result<Package, PaymentsError> {
    let row = package::ActiveModel {
        id: NotSet,
        name: Set(input.name.clone()),
        description: Set(input.description.clone()),
        price: Set(input.price),
        quota_bytes: Set(input.quota_bytes),
        unlimited: Set(input.unlimited),
        validity_hours: Set(input.validity_hours),
        hotspot_profile: Set(input.hotspot_profile.clone()),
        sort_order: Set(input.sort_order),
        is_active: Set(input.is_active),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let saved = row
        .insert(conn)
        .await
        .map_err(|e| name_taken(e, &input.name))?;
    Ok(to_api(saved))
}

impl Service {
    /// Packages on sale, in their sort order (then by price).
    /// Served from memory (see [`crate::catalog`]).
    pub async fn active_packages(&self) -> Result<Vec<Package>, PaymentsError> {
        if let Some(packages) = self.on_sale.get() {
            return Ok(packages.as_ref().clone());
        }
        let generation = self.on_sale.generation();
        let rows = package::Entity::find()
            .filter(package::Column::IsActive.eq(true))
            .order_by_asc(package::Column::SortOrder)
            .order_by_asc(package::Column::Price)
            .order_by_asc(package::Column::Id)
            .all(&self.db)
            .await?;
        let packages: Vec<Package> = rows.into_iter().map(to_api).collect();
        self.on_sale
            .store(generation, std::sync::Arc::new(packages.clone()));
        Ok(packages)
    }

    /// Every package, on sale or not (admin and CLI).
    pub async fn all_packages(&self) -> Result<Vec<Package>, PaymentsError> {
        let rows = package::Entity::find()
            .order_by_asc(package::Column::SortOrder)
            .order_by_asc(package::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(to_api).collect())
    }

    pub async fn package(&self, id: i64) -> Result<Package, PaymentsError> {
        self.package_row(id).await.map(to_api)
    }

    pub(crate) async fn package_row(&self, id: i64) -> Result<package::Model, PaymentsError> {
        package::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(PaymentsError::PackageNotFound)
    }

    pub async fn create_package(&self, input: &PackageInput) -> Result<Package, PaymentsError> {
        let saved = insert_package(&self.db, &clean(input)?, self.clock.now()).await?;
        self.on_sale.invalidate();
        Ok(saved)
    }

    /// Replaces a package's fields. Orders already made keep what they bought.
    pub async fn update_package(
        &self,
        id: i64,
        input: &PackageInput,
    ) -> Result<Package, PaymentsError> {
        let input = clean(input)?;
        let current = self.package_row(id).await?;
        let mut row: package::ActiveModel = current.into();
        row.name = Set(input.name.clone());
        row.description = Set(input.description);
        row.price = Set(input.price);
        row.quota_bytes = Set(input.quota_bytes);
        row.unlimited = Set(input.unlimited);
        row.validity_hours = Set(input.validity_hours);
        row.hotspot_profile = Set(input.hotspot_profile);
        row.sort_order = Set(input.sort_order);
        row.is_active = Set(input.is_active);
        row.updated_at = Set(self.clock.now());
        let saved = row
            .update(&self.db)
            .await
            .map_err(|e| name_taken(e, &input.name))?;
        self.on_sale.invalidate();
        Ok(to_api(saved))
    }

    /// Takes a package off sale (CLI `package disable`).
    pub async fn disable_package(&self, id: i64) -> Result<Package, PaymentsError> {
        let current = self.package_row(id).await?;
        let mut row: package::ActiveModel = current.into();
        row.is_active = Set(false);
        row.updated_at = Set(self.clock.now());
        let saved = row.update(&self.db).await?;
        self.on_sale.invalidate();
        Ok(to_api(saved))
    }

    /// Deletes a package nobody ordered; one with orders is deactivated instead.
    pub async fn remove_package(&self, id: i64) -> Result<Removed, PaymentsError> {
        self.package_row(id).await?;
        let orders = order::Entity::find()
            .filter(order::Column::PackageId.eq(id))
            .count(&self.db)
            .await?;
        if orders > 0 {
            self.disable_package(id).await?;
            return Ok(Removed::Deactivated);
        }
        match package::Entity::delete_by_id(id).exec(&self.db).await {
            Ok(_) => {
                self.on_sale.invalidate();
                Ok(Removed::Deleted)
            }
            // An order created between the count and the delete: the key refuses; take it off sale.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                self.disable_package(id).await?;
                Ok(Removed::Deactivated)
            }
            Err(e) => Err(e.into()),
        }
    }
}
