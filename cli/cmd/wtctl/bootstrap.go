package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/watchtower/authplane/platform/grpcclient"
	identityv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/identity/v1"
)

// maxPasswordInput bounds what --password-stdin reads; identity refuses
// passwords over 1024 bytes, so a little more is enough to report that.
const maxPasswordInput = 4096

func runBootstrap(ctx context.Context, args []string, std streams, lookup func(string) (string, bool)) error {
	c := newCommand("bootstrap", std, lookup)
	var (
		orgName, email, name, addr, keys string
		passwordStdin                    bool
	)
	c.set.String(&orgName, "org", "", "name of the organization to create")
	c.set.String(&email, "email", "", "email of its first administrator")
	c.set.String(&name, "name", "", "display name of the administrator (optional)")
	c.set.Bool(&passwordStdin, "password-stdin", false, "read the administrator's password from standard input (required)")
	c.set.String(&addr, "identity-addr", defaultIdentityAddr, "identity service gRPC address")
	c.set.Secret(&keys, "principal-keys", "", "principal signing keys \"kid:base64secret[,...]\"")
	if err := c.parse(args); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(orgName) == "":
		return usagef("bootstrap: --org is required")
	case strings.TrimSpace(email) == "":
		return usagef("bootstrap: --email is required")
	case !passwordStdin:
		return usagef("bootstrap: --password-stdin is required (the password is never taken from the command line)")
	}
	kr, err := keyring(keys)
	if err != nil {
		return err
	}
	c.logger(std)
	password, err := readPassword(std)
	if err != nil {
		return err
	}
	cc, err := grpcclient.Dial(addr, "wtctl", kr)
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := identityv1.NewIdentityServiceClient(cc).Bootstrap(ctx, &identityv1.BootstrapRequest{
		OrgName:  orgName,
		Email:    email,
		Name:     name,
		Password: password,
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", describeRPCError(err))
	}
	return writeJSON(std.stdout, map[string]string{"orgId": resp.GetOrgId(), "userId": resp.GetUserId()})
}

// readPassword reads the first line of standard input, without its line end.
func readPassword(std streams) (string, error) {
	r := bufio.NewReaderSize(std.stdin, maxPasswordInput)
	line, err := r.ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", usagef("bootstrap: the password on standard input is longer than %d bytes", maxPasswordInput)
		}
		return "", fmt.Errorf("bootstrap: read password: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if pw == "" {
		return "", usagef("bootstrap: empty password on standard input")
	}
	return pw, nil
}
