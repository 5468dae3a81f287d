// Package cookies turns the session service's response metadata into the
// console cookies of API.md, and sets the HTTP status an RPC asks for.
//
// Services never write HTTP: they send these header metadata entries, which
// the gateway consumes (none is forwarded to the client):
//
//	x-wt-set-session   a new session token → wt_session (and wt_mfa cleared)
//	x-wt-set-mfa       a pending-MFA token → wt_mfa
//	x-wt-cookie-max-age  seconds the cookie set above may live
//	x-wt-clear-session wt_session cleared (Max-Age=0)
//	x-wt-http-status   a success status other than 200 (e.g. 201)
//
// An RPC whose response message declares no field answers 204 No Content.
package cookies

import (
	"context"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/watchtower/authplane/platform/restmeta"
	"google.golang.org/protobuf/proto"
)

// Names and limits fixed by API.md.
const (
	Session       = "wt_session"
	MFA           = "wt_mfa"
	maxMFAAgeSecs = 300
)

// Metadata keys the services send.
const (
	MDSetSession   = "x-wt-set-session"
	MDSetMFA       = "x-wt-set-mfa"
	MDMaxAge       = "x-wt-cookie-max-age"
	MDClearSession = "x-wt-clear-session"
	MDHTTPStatus   = restmeta.HeaderHTTPStatus
)

// Writer builds cookies with the configured attributes.
type Writer struct {
	// Secure is on unless the operator explicitly turned it off.
	Secure bool
}

func (cw Writer) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   cw.Secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// Set writes a cookie that lives maxAge seconds.
func (cw Writer) Set(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, cw.cookie(name, value, maxAge))
}

// Clear expires a cookie now.
func (cw Writer) Clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, cw.cookie(name, "", -1))
}

// ForwardResponse is grpc-gateway's forward-response option.
func (cw Writer) ForwardResponse(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	md, ok := runtime.ServerMetadataFromContext(ctx)
	status := http.StatusOK
	if ok {
		h := md.HeaderMD
		maxAge := 0
		if v := h.Get(MDMaxAge); len(v) > 0 {
			maxAge, _ = strconv.Atoi(v[0])
		}
		if v := h.Get(MDSetSession); len(v) > 0 && v[0] != "" && maxAge > 0 {
			cw.Set(w, Session, v[0], maxAge)
			cw.Clear(w, MFA)
		}
		if v := h.Get(MDSetMFA); len(v) > 0 && v[0] != "" && maxAge > 0 {
			cw.Set(w, MFA, v[0], min(maxAge, maxMFAAgeSecs))
		}
		if len(h.Get(MDClearSession)) > 0 {
			cw.Clear(w, Session)
		}
		if v := h.Get(MDHTTPStatus); len(v) > 0 {
			if n, err := strconv.Atoi(v[0]); err == nil && n >= 200 && n < 300 {
				status = n
			}
		}
	}
	if resp.ProtoReflect().Descriptor().Fields().Len() == 0 {
		status = http.StatusNoContent
	}
	if status != http.StatusOK {
		if status == http.StatusNoContent {
			w.Header().Del("Content-Type")
		}
		w.WriteHeader(status)
	}
	return nil
}
