//! The retention sweep's deletes on PostgreSQL (`crate::retention`), with numbered
//! placeholders.

crate::retention::sweep_methods!(sqlx::PgPool, crate::retention::numbered, "BEGIN");
