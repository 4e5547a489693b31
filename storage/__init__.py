"""The database: models, engine and sessions, migrations, and the queries the services use."""
