package apikeyauth

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeyAllows(t *testing.T) {
	for _, tt := range []struct {
		name     string
		key, org []string
		ip       string
		want     bool
	}{
		{"no lists", nil, nil, "198.51.100.7", true},
		{"inside the key's list", []string{"198.51.100.0/24"}, nil, "198.51.100.7", true},
		{"outside the key's list", []string{"198.51.100.0/24"}, nil, "203.0.113.1", false},
		{"inside the key's, outside the org's", []string{"198.51.100.0/24"}, []string{"10.0.0.0/8"}, "198.51.100.7", false},
		{"inside both", []string{"198.51.100.0/24"}, []string{"198.0.0.0/8"}, "198.51.100.7", true},
		{"IPv4-mapped IPv6 caller", []string{"198.51.100.0/24"}, nil, "::ffff:198.51.100.7", true},
		{"IPv6 list", []string{"2001:db8::/32"}, nil, "2001:db8::1", true},
		{"unparsable entry matches nothing", []string{"bogus"}, nil, "198.51.100.7", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := &Key{AllowedCIDRs: prefixes(tt.key), OrgCIDRs: prefixes(tt.org)}
			require.Equal(t, tt.want, k.Allows(netip.MustParseAddr(tt.ip)))
		})
	}
}
