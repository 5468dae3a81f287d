// Package policysnap keeps the gateway's in-process copy of the authz
// service's role -> permission table, so that deciding a route costs no
// network hop. The table changes only with a deploy of authz; the snapshot is
// re-read periodically and whenever its version changes.
package policysnap

import (
	"context"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
)

type table struct {
	version string
	grants  map[string]map[string]bool
	sorted  map[string][]string
}

// Snapshot is a concurrently readable policy table.
type Snapshot struct {
	client  authzv1.AuthorizationServiceClient
	refresh time.Duration
	log     *slog.Logger
	cur     atomic.Pointer[table]
}

// New returns an empty snapshot; Run fills it.
func New(client authzv1.AuthorizationServiceClient, refresh time.Duration, log *slog.Logger) *Snapshot {
	return &Snapshot{client: client, refresh: refresh, log: log}
}

// Load reads the table once.
func (s *Snapshot) Load(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := s.client.GetPolicy(ctx, &authzv1.GetPolicyRequest{})
	if err != nil {
		return err
	}
	t := &table{version: resp.GetVersion(), grants: map[string]map[string]bool{}, sorted: map[string][]string{}}
	for _, row := range resp.GetRoles() {
		set := map[string]bool{}
		for _, p := range row.GetPermissions() {
			set[p] = true
		}
		perms := append([]string(nil), row.GetPermissions()...)
		sort.Strings(perms)
		t.grants[row.GetRole()] = set
		t.sorted[row.GetRole()] = perms
	}
	if old := s.cur.Swap(t); old == nil || old.version != t.version {
		s.log.Info("policy snapshot loaded", "version", t.version, "roles", len(t.grants))
	}
	return nil
}

// Run loads the table until ctx ends: every second until the first load
// succeeds, then every refresh interval.
func (s *Snapshot) Run(ctx context.Context) {
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := s.Load(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("policy snapshot load failed", "error", err.Error())
			wait = time.Second
			if s.Ready() {
				wait = s.refresh
			}
			continue
		}
		wait = s.refresh
	}
}

// Ready reports whether a table has been loaded.
func (s *Snapshot) Ready() bool { return s.cur.Load() != nil }

// Allowed reports whether role holds permission; ready is false before the
// first load (callers then fail closed).
func (s *Snapshot) Allowed(role, permission string) (allowed, ready bool) {
	t := s.cur.Load()
	if t == nil {
		return false, false
	}
	return t.grants[role][permission], true
}

// Permissions lists role's permissions, sorted (nil before the first load).
func (s *Snapshot) Permissions(role string) []string {
	t := s.cur.Load()
	if t == nil {
		return nil
	}
	return t.sorted[role]
}
