//! The retention sweep's deletes on SQLite (`crate::retention`): run on the writer, whose
//! queue intake shares, one small batch at a time.

crate::retention::sweep_methods!(sqlx::SqlitePool, ToString::to_string, "BEGIN IMMEDIATE");
