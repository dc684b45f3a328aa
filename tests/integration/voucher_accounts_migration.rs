//! Migration 000010 (voucher accounts) on a database that already holds users: `users` gets a
//! nullable phone (SQLite rebuilds the table) and keeps its rows, ids, unique phone and the
//! foreign keys of the tables pointing at it; going back down is refused while a user has no
//! phone. On SQLite and on Postgres.

use lpsaring_kernel::testing::TestDatabase;
use lpsaring_migrations::{Migrator, MigratorTrait};
use lpsaring_tests::count_rows;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

const T: &str = "'2026-01-01T00:00:00Z'";

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

fn user_sql(id: i64, phone: Option<&str>) -> String {
    let phone = phone.map_or_else(|| "NULL".to_owned(), |p| format!("'{p}'"));
    format!(
        "INSERT INTO users (id, phone_number, full_name, role, approval_status, is_active, is_blocked, created_at, updated_at) \
         VALUES ({id}, {phone}, 'User {id}', 'USER', 'APPROVED', true, false, {T}, {T})"
    )
}

fn token_sql(user: i64, hash: &str) -> String {
    format!(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, issued_at, expires_at) \
         VALUES ({user}, 'f', '{hash}', {T}, {T})"
    )
}

#[tokio::test]
async fn making_the_phone_optional_keeps_users_and_the_foreign_keys_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let test_db = TestDatabase::in_dir(dir.path()).await;
    let db = test_db.connect().await;
    // Up to 000010 and no further: later migrations must not be in the way of its down.
    let before_10 = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261201_000010_auth_voucher_accounts")
        .unwrap() as u32;
    Migrator::up(&db, Some(before_10)).await.unwrap();
    exec(&db, &user_sql(7, Some("+6281234567001")))
        .await
        .unwrap();
    exec(&db, &user_sql(8, Some("+6281234567002")))
        .await
        .unwrap();
    exec(&db, &token_sql(7, "a")).await.unwrap();
    exec(
        &db,
        &format!("INSERT INTO login_history (user_id, at, method) VALUES (7, {T}, 'otp')"),
    )
    .await
    .unwrap();
    exec(
        &db,
        &format!(
            "INSERT INTO devices (user_id, mac, first_seen_at, last_seen_at) VALUES (7, '02:00:00:00:00:07', {T}, {T})"
        ),
    )
    .await
    .unwrap();

    Migrator::up(&db, Some(1)).await.unwrap();

    // Rows and ids kept; the dependants are still there.
    assert_eq!(count_rows(&db, "users").await, 2);
    for table in ["refresh_tokens", "login_history", "devices"] {
        assert_eq!(count_rows(&db, table).await, 1, "{table}");
    }
    // Voucher accounts have no phone (many of them); phones stay unique, references stay checked.
    exec(&db, &user_sql(9, None)).await.unwrap();
    exec(&db, &user_sql(10, None)).await.unwrap();
    assert!(
        exec(&db, &user_sql(11, Some("+6281234567001")))
            .await
            .is_err()
    );
    assert!(
        exec(&db, &token_sql(999, "b")).await.is_err(),
        "the foreign key to users is gone"
    );
    exec(&db, &token_sql(9, "c")).await.unwrap();
    // Deleting a user still cascades through the foreign keys that name `users`.
    exec(&db, "DELETE FROM users WHERE id = 7").await.unwrap();
    for table in ["login_history", "devices"] {
        assert_eq!(count_rows(&db, table).await, 0, "{table}");
    }
    assert_eq!(count_rows(&db, "refresh_tokens").await, 1);
    // SQLite's rebuilt table continues after the kept ids (Postgres keeps its sequence, which
    // explicit ids never advanced, so the check is SQLite's).
    exec(
        &db,
        &format!(
            "INSERT INTO users (phone_number, full_name, created_at, updated_at) VALUES ('+6281234567003', 'New', {T}, {T})"
        ),
    )
    .await
    .unwrap();
    if test_db.backend() == "sqlite" {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT MAX(id) AS n FROM users",
            ))
            .await
            .unwrap()
            .unwrap();
        assert!(row.try_get::<i64>("", "n").unwrap() > 10);
    }

    // Down is refused while users without a phone exist, then restores the required phone.
    // (Later migrations are undone first: 000010 is the tenth.)
    let through_000010 = u32::try_from(Migrator::migrations().len() - 9).unwrap();
    let err = Migrator::down(&db, Some(through_000010)).await.unwrap_err();
    assert!(err.to_string().contains("no phone number"), "{err}");
    exec(&db, "DELETE FROM users WHERE phone_number IS NULL")
        .await
        .unwrap();
    Migrator::down(&db, Some(1)).await.unwrap();
    assert!(exec(&db, &user_sql(12, None)).await.is_err());
    assert_eq!(count_rows(&db, "users").await, 2);
}
