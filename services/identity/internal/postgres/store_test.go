package postgres_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/pgdb"
	"github.com/watchtower/authplane/platform/testenv"
	"github.com/watchtower/authplane/services/identity/internal/identity"
	"github.com/watchtower/authplane/services/identity/internal/postgres"
	"github.com/watchtower/authplane/services/identity/migrations"
)

func openPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Postgres")
	}
	return testenv.PostgresPool(t, migrations.Schema, migrations.FS, 4)
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func record(n int, orgID, userID, email string) identity.BootstrapRecord {
	at := t0.Add(time.Duration(n) * time.Hour)
	return identity.BootstrapRecord{
		Org:          identity.Organization{ID: orgID, Name: "Org " + orgID, CreatedAt: at},
		User:         identity.User{ID: userID, Email: email, Name: "User " + userID, CreatedAt: at, UpdatedAt: at},
		PasswordHash: "$argon2id$hash-of-" + userID,
		Event: identity.AuditEvent{ID: "aud_" + orgID, OrgID: orgID, Type: identity.AuditOrgBootstrapped,
			ActorID: "service:wtctl", TargetID: orgID, At: at, Data: map[string]string{"admin_user_id": userID}},
	}
}

func TestMigrateIsIdempotentAndReversible(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	require.NoError(t, pgdb.Migrate(ctx, pool, migrations.Schema, migrations.FS))
	down, err := fs.ReadFile(migrations.FS, "0001_init.down.sql")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, string(down))
	require.NoError(t, err)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'identity' AND tablename <> 'schema_migrations'`).Scan(&n))
	require.Zero(t, n)
	_, err = pool.Exec(ctx, `DELETE FROM schema_migrations`)
	require.NoError(t, err)
	require.NoError(t, pgdb.Migrate(ctx, pool, migrations.Schema, migrations.FS))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'identity' AND tablename <> 'schema_migrations'`).Scan(&n))
	require.Equal(t, 5, n)
}

func TestBootstrapAndRead(t *testing.T) {
	pool := openPool(t)
	s := postgres.New(pool)
	ctx := context.Background()

	require.NoError(t, s.Bootstrap(ctx, record(0, "org_a", "usr_a", "a@example.com")))

	u, phc, err := s.CredentialByEmail(ctx, "a@example.com")
	require.NoError(t, err)
	require.Equal(t, "usr_a", u.ID)
	require.Equal(t, "a@example.com", u.Email)
	require.Equal(t, "User usr_a", u.Name)
	require.False(t, u.Disabled)
	require.False(t, u.MFAEnabled)
	require.True(t, u.CreatedAt.Equal(t0))
	require.Equal(t, "$argon2id$hash-of-usr_a", phc)

	got, err := s.User(ctx, "usr_a")
	require.NoError(t, err)
	require.Equal(t, u, got)

	ms, err := s.Memberships(ctx, "usr_a")
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, identity.Membership{OrgID: "org_a", OrgName: "Org org_a", Role: identity.RoleAdmin, JoinedAt: ms[0].JoinedAt, MFARequired: true}, ms[0])
	require.True(t, ms[0].JoinedAt.Equal(t0))

	var roles []string
	var idle, abs int
	var cidrs []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT mfa_required_roles, session_idle_timeout_seconds, session_absolute_timeout_seconds, allowed_cidrs
		FROM org_security_policies WHERE org_id = 'org_a'`).Scan(&roles, &idle, &abs, &cidrs))
	require.Equal(t, []string{"ADMIN", "RISK_LEAD"}, roles)
	require.Equal(t, 1800, idle)
	require.Equal(t, 43200, abs)
	require.Empty(t, cidrs)

	var typ, actor, data string
	require.NoError(t, pool.QueryRow(ctx, `SELECT type, actor_id, data::text FROM audit_events WHERE org_id = 'org_a'`).Scan(&typ, &actor, &data))
	require.Equal(t, "org.bootstrapped", typ)
	require.Equal(t, "service:wtctl", actor)
	require.JSONEq(t, `{"admin_user_id":"usr_a"}`, data)
}

func TestBootstrapEmailTakenLeavesNothing(t *testing.T) {
	pool := openPool(t)
	s := postgres.New(pool)
	ctx := context.Background()
	require.NoError(t, s.Bootstrap(ctx, record(0, "org_a", "usr_a", "a@example.com")))
	err := s.Bootstrap(ctx, record(1, "org_b", "usr_b", "a@example.com"))
	require.ErrorIs(t, err, identity.ErrEmailTaken)
	for _, table := range []string{"organizations", "users", "memberships", "org_security_policies", "audit_events"} {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
		require.Equal(t, 1, n, table)
	}
}

func TestNotFound(t *testing.T) {
	s := postgres.New(openPool(t))
	ctx := context.Background()
	_, _, err := s.CredentialByEmail(ctx, "nobody@example.com")
	require.ErrorIs(t, err, identity.ErrNotFound)
	_, err = s.User(ctx, "usr_nobody")
	require.ErrorIs(t, err, identity.ErrNotFound)
	require.ErrorIs(t, s.SetPasswordHash(ctx, "usr_nobody", "x", t0), identity.ErrNotFound)
	ms, err := s.Memberships(ctx, "usr_nobody")
	require.NoError(t, err)
	require.Empty(t, ms)
}

func TestSetPasswordHash(t *testing.T) {
	s := postgres.New(openPool(t))
	ctx := context.Background()
	require.NoError(t, s.Bootstrap(ctx, record(0, "org_a", "usr_a", "a@example.com")))
	later := t0.Add(48 * time.Hour)
	require.NoError(t, s.SetPasswordHash(ctx, "usr_a", "$argon2id$new", later))
	u, phc, err := s.CredentialByEmail(ctx, "a@example.com")
	require.NoError(t, err)
	require.Equal(t, "$argon2id$new", phc)
	require.True(t, u.UpdatedAt.Equal(later))
}

func TestMembershipsOrderAndPolicy(t *testing.T) {
	pool := openPool(t)
	s := postgres.New(pool)
	ctx := context.Background()
	require.NoError(t, s.Bootstrap(ctx, record(5, "org_new", "usr_a", "a@example.com")))
	require.NoError(t, s.Bootstrap(ctx, record(1, "org_old", "usr_b", "b@example.com")))
	require.NoError(t, s.Bootstrap(ctx, record(9, "org_nopolicy", "usr_c", "c@example.com")))
	for _, m := range []struct {
		org, role string
		at        time.Time
	}{
		{"org_old", "ANALYST", t0.Add(2 * time.Hour)},
		{"org_nopolicy", "RISK_LEAD", t0.Add(10 * time.Hour)},
	} {
		_, err := pool.Exec(ctx, `INSERT INTO memberships (org_id, user_id, role, joined_at) VALUES ($1, 'usr_a', $2, $3)`, m.org, m.role, m.at)
		require.NoError(t, err)
	}
	_, err := pool.Exec(ctx, `DELETE FROM org_security_policies WHERE org_id = 'org_nopolicy'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE org_security_policies SET mfa_required_roles = '{ANALYST}' WHERE org_id = 'org_new'`)
	require.NoError(t, err)

	ms, err := s.Memberships(ctx, "usr_a")
	require.NoError(t, err)
	type row struct {
		org  string
		role identity.Role
		mfa  bool
	}
	var got []row
	for _, m := range ms {
		got = append(got, row{m.OrgID, m.Role, m.MFARequired})
	}
	require.Equal(t, []row{
		{"org_old", identity.RoleAnalyst, false},
		{"org_new", identity.RoleAdmin, false},        // its policy now requires only ANALYST
		{"org_nopolicy", identity.RoleRiskLead, true}, // no policy row: the default applies
	}, got)
}

func TestRoleCheckConstraint(t *testing.T) {
	pool := openPool(t)
	s := postgres.New(pool)
	ctx := context.Background()
	require.NoError(t, s.Bootstrap(ctx, record(0, "org_a", "usr_a", "a@example.com")))
	require.NoError(t, s.Bootstrap(ctx, record(1, "org_b", "usr_b", "b@example.com")))
	_, err := pool.Exec(ctx, `INSERT INTO memberships (org_id, user_id, role) VALUES ('org_a', 'usr_b', 'OWNER')`)
	require.Error(t, err)
}

func TestInsertAuditEvent(t *testing.T) {
	pool := openPool(t)
	s := postgres.New(pool)
	ctx := context.Background()
	require.NoError(t, s.Bootstrap(ctx, record(0, "org_a", "usr_a", "a@example.com")))
	e := identity.AuditEvent{ID: "aud_1", OrgID: "org_a", Type: "member.role_changed", ActorID: "usr_a", TargetID: "usr_b",
		IP: "203.0.113.7", UserAgent: "test/1", At: t0.Add(time.Hour), Data: map[string]string{"from": "VIEWER", "to": "ANALYST"}}
	require.NoError(t, s.InsertAuditEvent(ctx, e))
	var ip, data string
	var at time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT ip, at, data::text FROM audit_events WHERE id = 'aud_1' AND org_id = 'org_a'`).Scan(&ip, &at, &data))
	require.Equal(t, "203.0.113.7", ip)
	require.True(t, at.Equal(e.At))
	require.JSONEq(t, `{"from":"VIEWER","to":"ANALYST"}`, data)

	e.ID, e.OrgID = "aud_2", "org_missing"
	require.ErrorIs(t, s.InsertAuditEvent(ctx, e), identity.ErrOrgNotFound)
}

func TestClosedPoolIsUnavailable(t *testing.T) {
	pool := openPool(t)
	s := postgres.New(pool)
	pool.Close()
	_, _, err := s.CredentialByEmail(context.Background(), "a@example.com")
	e, ok := apperr.As(err)
	require.True(t, ok, "got %v", err)
	require.Equal(t, apperr.KindUnavailable, e.Kind)
	require.Error(t, s.Ping(context.Background()))
}
