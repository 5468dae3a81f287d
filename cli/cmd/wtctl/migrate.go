package main

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/watchtower/authplane/platform/pgdb"
	identitymigrations "github.com/watchtower/authplane/services/identity/migrations"
	ingestionmigrations "github.com/watchtower/authplane/services/ingestion/migrations"
)

// serviceMigrations lists every service that owns a Postgres schema, in the
// order they are migrated.
var serviceMigrations = []struct {
	service string
	schema  string
	fs      fs.FS
}{
	{"identity", identitymigrations.Schema, identitymigrations.FS},
	{"ingestion", ingestionmigrations.Schema, ingestionmigrations.FS},
}

// migrateResult is one schema's state after migrate.
type migrateResult struct {
	Service  string `json:"service"`
	Schema   string `json:"schema"`
	Versions []int  `json:"versions"`
}

func runMigrate(ctx context.Context, args []string, std streams, lookup func(string) (string, bool)) error {
	c := newCommand("migrate", std, lookup)
	var pgURL string
	c.set.String(&pgURL, "postgres-url", defaultPostgresURL, "Postgres URL of the WatchTower database")
	if err := c.parse(args); err != nil {
		return err
	}
	log := c.logger(std)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out := struct {
		Migrated []migrateResult `json:"migrated"`
	}{}
	for _, m := range serviceMigrations {
		pool, err := pgdb.Open(ctx, pgURL, m.schema, 2)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.service, err)
		}
		err = pgdb.Migrate(ctx, pool, m.schema, m.fs)
		var versions []int
		if err == nil {
			versions, err = appliedVersions(ctx, pool)
		}
		pool.Close()
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.service, err)
		}
		log.Info("schema migrated", "service", m.service, "schema", m.schema, "versions", versions)
		out.Migrated = append(out.Migrated, migrateResult{Service: m.service, Schema: m.schema, Versions: versions})
	}
	return writeJSON(std.stdout, out)
}

const selectAppliedVersions = `SELECT version FROM schema_migrations ORDER BY version`

// appliedVersions lists the migrations recorded in the pool's schema (its
// search_path).
func appliedVersions(ctx context.Context, pool *pgxpool.Pool) ([]int, error) {
	rows, err := pool.Query(ctx, selectAppliedVersions)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	if versions == nil {
		versions = []int{}
	}
	return versions, nil
}
