package sessionkv

// Response header metadata by which the session service asks the gateway to
// set or clear the console cookies. The gateway strips them from the HTTP
// response and turns them into Set-Cookie.
const (
	// HeaderSetSession carries a new session token: set the wt_session cookie.
	HeaderSetSession = "x-wt-set-session"
	// HeaderSetMFA carries a pending-MFA token: set the wt_mfa cookie.
	HeaderSetMFA = "x-wt-set-mfa"
	// HeaderCookieMaxAge is the cookie's Max-Age in seconds (until the
	// session's absolute expiry).
	HeaderCookieMaxAge = "x-wt-cookie-max-age"
	// HeaderClearSession ("1") asks to clear wt_session (Max-Age=0).
	HeaderClearSession = "x-wt-clear-session"
)
