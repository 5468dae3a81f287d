package pgdb

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migrate applies, in order, the "NNNN_name.up.sql" files of migrations that
// schema has not applied yet, each in its own transaction, recording them in
// schema.schema_migrations. A Postgres advisory lock serialises concurrent
// migrators (several replicas starting at once). It is idempotent.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string, migrations fs.FS) error {
	if !schemaName.MatchString(schema) {
		return fmt.Errorf("pgdb: bad schema name %q", schema)
	}
	files, err := upFiles(migrations)
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgdb: acquire: %w", err)
	}
	defer conn.Release()
	lockKey := "watchtower.migrate." + schema
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, lockKey); err != nil {
		return fmt.Errorf("pgdb: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1))`, lockKey) //nolint:errcheck
	q := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+q); err != nil {
		return fmt.Errorf("pgdb: create schema: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+q+`.schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("pgdb: create schema_migrations: %w", err)
	}
	for _, f := range files {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+q+`.schema_migrations WHERE version = $1)`, f.version).Scan(&done); err != nil {
			return fmt.Errorf("pgdb: read schema_migrations: %w", err)
		}
		if done {
			continue
		}
		sql, err := fs.ReadFile(migrations, f.path)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+q); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+q+`.schema_migrations (version, name) VALUES ($1, $2)`, f.version, f.path)
			return err
		})
		if err != nil {
			return fmt.Errorf("pgdb: apply %s/%s: %w", schema, f.path, err)
		}
	}
	return nil
}

type migration struct {
	version int
	path    string
}

func upFiles(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("pgdb: read migrations: %w", err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("pgdb: migration %q must start with a number and _", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("pgdb: migrations %q and %q share version %d", prev, name, v)
		}
		seen[v] = name
		out = append(out, migration{version: v, path: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}
