package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/watchtower/authplane/platform/grpcclient"
	ingestionv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/ingestion/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func runAPIKey(ctx context.Context, args []string, std streams, lookup func(string) (string, bool)) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("api-key: expected the sub-command \"create\"")
	}
	c := newCommand("api-key create", std, lookup)
	var orgID, name, environment, cidrs, addr, keys string
	c.set.String(&orgID, "org", "", "id of the organization that owns the key")
	c.set.String(&name, "name", "", "name of the key")
	c.set.String(&environment, "environment", "", "\"live\" or \"test\"")
	c.set.String(&cidrs, "allowed-cidrs", "", "comma-separated CIDRs the key may be used from (optional; empty allows any)")
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
	kr, err := keyring(keys)
	if err != nil {
		return err
	}
	c.logger(std)
	req := &ingestionv1.CreateApiKeyRequest{OrgId: orgID, Name: name, Environment: environment}
	for _, cidr := range strings.Split(cidrs, ",") {
		if cidr = strings.TrimSpace(cidr); cidr != "" {
			req.AllowedCidrs = append(req.AllowedCidrs, cidr)
		}
	}
	cc, err := grpcclient.Dial(addr, "wtctl", kr)
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := ingestionv1.NewIngestionServiceClient(cc).CreateApiKey(ctx, req)
	if err != nil {
		return fmt.Errorf("api-key create: %w", describeRPCError(err))
	}
	out, err := protojson.Marshal(resp)
	if err != nil {
		return fmt.Errorf("api-key create: encode: %w", err)
	}
	_, err = fmt.Fprintf(std.stdout, "%s\n", out)
	return err
}
