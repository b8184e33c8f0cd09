package access

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/custodian-him/custodian"
)

// Sign-in errors. Both are EUNAUTHORIZED, and ErrBadCredentials says the
// same for an unknown name, a wrong password, a locked and a disabled
// account, so it tells a guesser nothing.
var (
	ErrBadCredentials = &custodian.Error{Code: custodian.EUNAUTHORIZED, Message: "The user name or password is wrong, or the account is locked for a while."}
	ErrThrottled      = &custodian.Error{Code: custodian.EUNAUTHORIZED, Message: "Too many failed sign-ins from this address; try again later."}
)

// sessionTouchEvery is how stale a session's last-seen time may get before
// a request writes it again: idle timeouts are exact to within this, and a
// busy user costs one write a minute rather than one a request.
const sessionTouchEvery = time.Minute

// SignedIn is the result of a successful sign-in.
type SignedIn struct {
	// SessionID is the new session's secret id, for the cookie. It is 256
	// random bits; only its SHA-256 is stored.
	SessionID string
	// CSRF is the session's anti-forgery token.
	CSRF       string
	User       *User
	MustChange bool
}

// SignIn checks name and password from addr and, if they are right and the
// account is usable, starts a new session (a fresh id every time, so a
// session id planted before sign-in is worthless). Every attempt, good or
// bad, goes to the AuditSink; a sign-in that cannot be audited fails.
//
// Five wrong passwords in a row lock the account for 15 minutes; 20
// failures from one address in 15 minutes make that address wait (both
// settable on Service). Errors: ErrBadCredentials, ErrThrottled, or
// EINTERNAL.
func (s *Service) SignIn(ctx context.Context, name, password, addr string) (*SignedIn, error) {
	now := s.now()
	actor := &custodian.Actor{ID: truncate(name, 64), Kind: KindUser, Address: addr}
	fail := func(reason string, err error) (*SignedIn, error) {
		s.addressFailed(addr, now)
		s.audit(ctx, actor, false, reason)
		return nil, err
	}
	if s.addressThrottled(addr, now) {
		s.audit(ctx, actor, false, "throttled")
		return nil, ErrThrottled
	}
	norm, err := NormalizeName(name)
	if err != nil {
		VerifyPassword(dummyHash(), password)
		return fail("unknown-user", ErrBadCredentials)
	}
	actor.ID = norm
	u, err := s.Store.FindUserByName(ctx, norm)
	if custodian.ErrorCode(err) == custodian.ENOTFOUND {
		VerifyPassword(dummyHash(), password) // the same time as a wrong password
		return fail("unknown-user", ErrBadCredentials)
	} else if err != nil {
		return nil, err
	}
	actor.Roles = u.Roles
	if now.Before(u.LockedUntil) {
		return fail("locked", ErrBadCredentials)
	}
	if !VerifyPassword(u.PasswordHash, password) {
		locked, err := s.Store.RecordFailure(ctx, norm, s.LockoutThreshold, now.Add(s.LockoutDuration))
		if err != nil {
			return nil, err
		}
		if locked {
			s.Logger.Warn("account locked after repeated failed sign-ins", "user", norm, "for", s.LockoutDuration.String())
			return fail("bad-password-locked", ErrBadCredentials)
		}
		return fail("bad-password", ErrBadCredentials)
	}
	if u.Disabled {
		return fail("disabled", ErrBadCredentials)
	}
	if u.FailedAttempts > 0 || !u.LockedUntil.IsZero() {
		if err := s.Store.UpdateUser(ctx, norm, UserUpdate{Unlock: true}, now); err != nil {
			return nil, err
		}
	}
	id := randomToken(32)
	sess := &Session{IDHash: hashSessionID(id), User: norm, Created: now, LastSeen: now}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	if s.Audit != nil {
		if err := s.Audit.SignIn(ctx, actor, true, "ok"); err != nil {
			s.Store.DeleteSession(ctx, sess.IDHash)
			return nil, err
		}
	}
	// Sweep sessions that have ended, everyone's; the user's own live
	// sessions stay (several browsers are fine).
	if err := s.Store.DeleteSessions(ctx, "", now.Add(-s.SessionIdle), now.Add(-s.SessionAbsolute)); err != nil {
		s.Logger.Warn("sweeping ended sessions", "err", err)
	}
	return &SignedIn{SessionID: id, CSRF: csrfToken(id), User: u, MustChange: u.MustChange}, nil
}

func (s *Service) audit(ctx context.Context, actor *custodian.Actor, ok bool, reason string) {
	if s.Audit == nil {
		return
	}
	if err := s.Audit.SignIn(ctx, actor, ok, reason); err != nil {
		s.Logger.Error("auditing a sign-in attempt", "err", err)
	}
}

// SessionState is what a valid session says about its user.
type SessionState struct {
	User       string
	Roles      []string
	MustChange bool
	CSRF       string // the anti-forgery token for forms of this session
	Created    time.Time
}

// Session looks up the session whose secret id is id and checks that it
// has been used within SessionIdle, began within SessionAbsolute and
// belongs to an enabled user. An ended session is deleted.
// Errors: EUNAUTHORIZED (no such or ended session), EINTERNAL.
func (s *Service) Session(ctx context.Context, id string) (*SessionState, error) {
	none := custodian.Errorf(custodian.EUNAUTHORIZED, "Please sign in.")
	if id == "" || len(id) > 128 {
		return nil, none
	}
	h := hashSessionID(id)
	sess, err := s.Store.FindSession(ctx, h)
	if custodian.ErrorCode(err) == custodian.ENOTFOUND {
		return nil, none
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if sess.Disabled || now.Sub(sess.LastSeen) > s.SessionIdle || now.Sub(sess.Created) > s.SessionAbsolute {
		if err := s.Store.DeleteSession(ctx, h); err != nil {
			return nil, err
		}
		return nil, none
	}
	if now.Sub(sess.LastSeen) >= sessionTouchEvery {
		if err := s.Store.TouchSession(ctx, h, now); err != nil {
			return nil, err
		}
	}
	return &SessionState{User: sess.User, Roles: sess.Roles, MustChange: sess.MustChange, CSRF: csrfToken(id), Created: sess.Created}, nil
}

// SignOut ends the session whose secret id is id, and records the
// sign-out of the actor in ctx. Ending one that does not exist is not an
// error.
func (s *Service) SignOut(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	target := ""
	if a := custodian.ActorFromContext(ctx); a != nil {
		target = "User/" + a.ID
	}
	return s.administered(ctx, "signout", target, s.Store.DeleteSession(ctx, hashSessionID(id)))
}

// CheckCSRF reports, in constant time, whether token is the session's
// anti-forgery token.
func (st *SessionState) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(st.CSRF)) == 1
}

func hashSessionID(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

// csrfToken derives a session's anti-forgery token from its secret id (a
// synchronizer token that needs no storage): only someone who holds the
// session cookie can compute it, and it cannot be turned back into the id.
func csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("custodian csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// addrCount counts recent failed sign-ins from one address.
type addrCount struct {
	n     int
	start time.Time
}

func (s *Service) addressThrottled(addr string, now time.Time) bool {
	if addr == "" || s.AddressFailures <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.throttle[addr]
	return c != nil && now.Sub(c.start) < s.AddressWindow && c.n >= s.AddressFailures
}

func (s *Service) addressFailed(addr string, now time.Time) {
	if addr == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttle == nil {
		s.throttle = map[string]*addrCount{}
	}
	if len(s.throttle) > 10000 {
		for a, c := range s.throttle {
			if now.Sub(c.start) >= s.AddressWindow {
				delete(s.throttle, a)
			}
		}
	}
	c := s.throttle[addr]
	if c == nil || now.Sub(c.start) >= s.AddressWindow {
		s.throttle[addr] = &addrCount{n: 1, start: now}
		return
	}
	c.n++
}
