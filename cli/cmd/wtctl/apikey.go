package main

import (
	"context"
	"errors"
	"strings"
)

// errAPIKeyUnavailable is returned until the ingestion service exposes
// CreateApiKey over gRPC.
var errAPIKeyUnavailable = errors.New("api-key create: not available yet: the ingestion service has no CreateApiKey RPC in this build")

func runAPIKey(ctx context.Context, args []string, std streams, lookup func(string) (string, bool)) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("api-key: expected the sub-command \"create\"")
	}
	c := newCommand("api-key create", std, lookup)
	var orgID, name, environment, addr, keys string
	c.set.String(&orgID, "org", "", "id of the organization that owns the key")
	c.set.String(&name, "name", "", "name of the key")
	c.set.String(&environment, "environment", "", "\"live\" or \"test\"")
	c.set.String(&addr, "ingestion-addr", defaultIngestionAddr, "ingestion service gRPC address")
	c.set.Secret(&keys, "principal-keys", "", "principal signing keys \"kid:base64secret[,...]\"")
	if err := c.parse(args[1:]); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(orgID) == "":
		return usagef("api-key create: --org is required")
	case strings.TrimSpace(name) == "":
		return usagef("api-key create: --name is required")
	case environment != "live" && environment != "test":
		return usagef("api-key create: --environment must be \"live\" or \"test\"")
	}
	if _, err := keyring(keys); err != nil {
		return err
	}
	c.logger(std)
	_ = ctx
	return errAPIKeyUnavailable
}
