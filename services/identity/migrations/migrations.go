// Package migrations embeds the identity service's schema migrations
// (NNNN_name.up.sql / .down.sql), applied at start-up and by wtctl migrate.
package migrations

import "embed"

// Schema is the Postgres schema the identity service owns.
const Schema = "identity"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
