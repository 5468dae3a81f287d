package main

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// describeRPCError turns a gRPC error into one readable sentence with its
// code, the service's machine reason and any field violations.
func describeRPCError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", st.Code(), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fmt.Fprintf(&b, " (reason %s)", d.GetReason())
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(&b, " [field %s: %s]", v.GetField(), v.GetDescription())
			}
		}
	}
	if st.Code() == codes.Unavailable {
		b.WriteString(" (is the service running and reachable at the configured address?)")
	}
	return errors.New(b.String())
}
