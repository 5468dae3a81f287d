// Package restmeta lets a gRPC handler ask the gateway for a REST detail that
// gRPC cannot express, through response header metadata the gateway consumes
// and never forwards.
package restmeta

import (
	"context"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// HeaderHTTPStatus carries a success status other than 200 (e.g. 201).
const HeaderHTTPStatus = "x-wt-http-status"

// SetStatus asks for the 2xx status code of the REST response.
func SetStatus(ctx context.Context, code int) error {
	return grpc.SetHeader(ctx, metadata.Pairs(HeaderHTTPStatus, strconv.Itoa(code)))
}
