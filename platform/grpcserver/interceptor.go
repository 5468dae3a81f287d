// Package grpcserver builds the gRPC server every WatchTower service runs:
// one interceptor chain (panic recovery, request-scoped logging and metrics,
// signed-principal verification against the RPC's declared access rule, and
// the one mapping of apperr kinds to gRPC status), plus health and reflection.
package grpcserver

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/watchtower/authplane/platform/access"
	"github.com/watchtower/authplane/platform/apperr"
	"github.com/watchtower/authplane/platform/logging"
	"github.com/watchtower/authplane/platform/principal"
	"github.com/watchtower/authplane/platform/requestid"
	authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// exempt lists the infrastructure methods callable without a principal.
func exempt(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(method, "/grpc.reflection.")
}

type interceptor struct {
	log     *slog.Logger
	keys    *principal.Keyring
	metrics *metrics
}

func (i *interceptor) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	md, _ := metadata.FromIncomingContext(ctx)
	rid := first(md, requestid.Header)
	if !requestid.Valid(rid) {
		rid = requestid.New()
	}
	// Attributes are formatted only if something is logged: a successful
	// call logs nothing at the default level.
	log := logging.WithLazyAttrs(i.log, slog.String("request_id", rid), slog.String("method", info.FullMethod))
	ctx = requestid.NewContext(ctx, rid)

	defer func() {
		if r := recover(); r != nil {
			log.Error("panic in handler", "panic", r, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
			resp = nil
		}
		code, took := status.Code(err), time.Since(start)
		i.metrics.observe(info.FullMethod, code, took)
		log.LogAttrs(ctx, callLevel(code, took), "grpc call", slog.String("code", code.String()), slog.Duration("duration", took))
	}()

	if !exempt(info.FullMethod) {
		p, aerr := i.authorize(md, rid, info.FullMethod)
		if aerr != nil {
			log.Warn("call refused", "reason", aerr.Reason, "cause", aerr.Err)
			return nil, toStatus(aerr)
		}
		log = logging.WithLazyAttrs(log, slog.String("principal_kind", p.GetKind().String()), slog.String("user_id", p.GetUserId()),
			slog.String("org_id", p.GetOrgId()), slog.String("api_key_id", p.GetApiKeyId()), slog.String("caller_service", p.GetService()))
		ctx = principal.NewContext(ctx, p)
	}
	ctx = logging.NewContext(ctx, log)
	resp, err = handler(ctx, req)
	if err != nil {
		err = i.mapError(ctx, log, err)
	}
	return resp, err
}

// SlowCall is the duration from which a successful call is logged at warn.
const SlowCall = time.Second

// callLevel is the level of a call's log line. A successful call is counted
// by the metrics and logged at debug only: the gateway's access log already
// has a line for every request, and this hop must stay cheap. Failures are
// logged at info (the caller's mistake) or error (ours), slow successes at
// warn.
func callLevel(code codes.Code, took time.Duration) slog.Level {
	switch code {
	case codes.OK:
		if took >= SlowCall {
			return slog.LevelWarn
		}
		return slog.LevelDebug
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// authorize verifies the signed principal and the method's access rule.
// Permissions of user principals are decided by the gateway, which signs
// the principal only after the policy allowed the route.
func (i *interceptor) authorize(md metadata.MD, rid, method string) (*authzv1.Principal, *apperr.Error) {
	p, err := i.keys.Verify(first(md, principal.MetadataKey), rid)
	if err != nil {
		e := apperr.Unauthenticated("unauthenticated", "a valid signed principal is required")
		e.Err = err
		return nil, e
	}
	rule, ok := access.ForMethod(method)
	if !ok {
		return nil, apperr.Forbidden("forbidden", "this method declares no access rule")
	}
	if !rule.Allows(access.AudienceOf(p)) {
		if p.GetKind() == authzv1.PrincipalKind_PRINCIPAL_KIND_ANONYMOUS {
			return nil, apperr.Unauthenticated("unauthenticated", "authentication is required")
		}
		return nil, apperr.Forbidden("forbidden", "this caller may not call this method")
	}
	if p.GetSessionState() == authzv1.SessionState_SESSION_STATE_ENROLLMENT_REQUIRED && !rule.EnrollmentAllowed {
		return nil, apperr.Forbidden("mfa_enrollment_required", "enrol a second factor first")
	}
	return p, nil
}

func (i *interceptor) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if exempt(info.FullMethod) {
		return handler(srv, ss)
	}
	md, _ := metadata.FromIncomingContext(ss.Context())
	if _, aerr := i.authorize(md, first(md, requestid.Header), info.FullMethod); aerr != nil {
		return toStatus(aerr)
	}
	return handler(srv, ss)
}

// mapError is the one place domain errors become gRPC statuses.
func (i *interceptor) mapError(ctx context.Context, log *slog.Logger, err error) error {
	if e, ok := apperr.As(err); ok {
		if e.Kind == apperr.KindInternal || e.Kind == apperr.KindUnavailable {
			log.Error("call failed", "reason", e.Reason, "error", err.Error())
		}
		return toStatus(e)
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "canceled")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	log.Error("internal error", "error", err.Error())
	return status.Error(codes.Internal, "internal error")
}

// CodeOf returns the gRPC code of a kind.
func CodeOf(k apperr.Kind) codes.Code { return (&apperr.Error{Kind: k}).Code() }

func toStatus(e *apperr.Error) error { return e.GRPCStatus().Err() }

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}
