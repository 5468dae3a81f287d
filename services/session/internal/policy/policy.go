// Package policy keeps an in-process copy of the authz service's role ->
// permission table (AuthorizationService/GetPolicy), refreshed once a
// minute, so building a Session view costs no gRPC hop.
package policy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/watchtower/authplane/platform/apperr"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"google.golang.org/grpc"
)

// DefaultRefresh is how often the table is fetched again.
const DefaultRefresh = time.Minute

// maxStale is how long a table may serve when authz cannot be reached for a
// refresh; past it the cache fails closed.
const maxStale = 10 * time.Minute

// Cache is the policy table. It implements session.Permissions.
type Cache struct {
	client  authzv1.AuthorizationServiceClient
	now     func() time.Time
	refresh time.Duration

	mu        sync.Mutex
	table     map[string][]string
	fetched   time.Time
	attempted time.Time
}

// retryEvery spaces refresh attempts while authz is unreachable, so an
// outage does not make every call wait for a timeout.
const retryEvery = 5 * time.Second

// New returns a cache over cc (a platform/grpcclient connection). now may be
// nil for time.Now.
func New(cc grpc.ClientConnInterface, now func() time.Time, refresh time.Duration) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{client: authzv1.NewAuthorizationServiceClient(cc), now: now, refresh: refresh}
}

// ForRole returns the permissions of role (empty for an unknown role),
// fetching the table when it is missing or older than the refresh interval.
func (c *Cache) ForRole(ctx context.Context, role string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	due := c.table == nil || now.Sub(c.fetched) >= c.refresh
	if due && (c.table == nil || now.Sub(c.attempted) >= retryEvery) {
		c.attempted = now
		if err := c.fetch(ctx); err != nil {
			if c.table == nil || now.Sub(c.fetched) >= maxStale {
				return nil, apperr.Unavailable(err)
			}
		} else {
			c.fetched = now
		}
	}
	if c.table == nil || now.Sub(c.fetched) >= maxStale {
		return nil, apperr.Unavailable(fmt.Errorf("authz policy older than %s", maxStale))
	}
	perms := c.table[role]
	return append(make([]string, 0, len(perms)), perms...), nil
}

func (c *Cache) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	res, err := c.client.GetPolicy(ctx, &authzv1.GetPolicyRequest{})
	if err != nil {
		return fmt.Errorf("authz get policy: %w", err)
	}
	t := make(map[string][]string, len(res.GetRoles()))
	for _, r := range res.GetRoles() {
		t[r.GetRole()] = r.GetPermissions()
	}
	c.table = t
	return nil
}
