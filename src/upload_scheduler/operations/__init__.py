"""An operator's actions beyond uploading: pausing accounts, delisting, purging the
queue, backups and moving over from the old system. Plain functions over the database;
the CLI renders what they return."""
