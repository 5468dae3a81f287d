package authn

import authzv1 "github.com/watchtower/authplane/proto/gen/go/watchtower/authz/v1"

// pendingState marks a session that is good for the MFA step only; it is
// never accepted as a wt_session, and only it is accepted as a wt_mfa.
const pendingState = authzv1.SessionState_SESSION_STATE_MFA_PENDING
