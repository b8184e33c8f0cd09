package access_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// auditRecorder is an AuditSink that keeps what it is told.
type auditRecorder struct {
	mu      sync.Mutex
	entries []string
	fail    bool
}

func (a *auditRecorder) SignIn(_ context.Context, actor *custodian.Actor, ok bool, reason string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("audit trail unavailable")
	}
	res := "fail"
	if ok {
		res = "ok"
	}
	a.entries = append(a.entries, actor.Kind+":"+actor.ID+":"+actor.Address+":"+res+":"+reason)
	return nil
}

func (a *auditRecorder) Administer(_ context.Context, action, target string, failure error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		return errors.New("audit trail unavailable")
	}
	res := "ok"
	if failure != nil {
		res = custodian.ErrorCode(failure)
	}
	a.entries = append(a.entries, "admin:"+action+":"+target+":"+res)
	return nil
}

func (a *auditRecorder) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) == 0 {
		return ""
	}
	return a.entries[len(a.entries)-1]
}

type fixture struct {
	svc   *access.Service
	db    *sqldb.DB
	clock *clock
	audit *auditRecorder
	ctx   context.Context // as the system actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	rec := &auditRecorder{}
	svc := access.NewService(sqldb.NewAccessStore(db))
	svc.Now = clk.Now
	svc.Audit = rec
	if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, clock: clk, audit: rec, ctx: custodian.NewContextWithActor(ctx, custodian.SystemActor())}
}

const goodPassword = "correct horse battery staple"

func (f *fixture) addUser(t *testing.T, name string, roles ...string) {
	t.Helper()
	if _, err := f.svc.CreateUser(f.ctx, name, roles, goodPassword); err != nil {
		t.Fatal(err)
	}
}

// dump returns every column of every row of table as text, to look for
// secrets stored in plain form.
func (f *fixture) dump(t *testing.T, table string) string {
	t.Helper()
	rows, err := f.db.SQL().Query(`SELECT * FROM ` + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%v|%s\n", v, v)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := access.HashPassword(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, goodPassword) {
		t.Fatalf("hash %q is not an argon2id PHC string, or holds the password", h)
	}
	h2, _ := access.HashPassword(goodPassword)
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !access.VerifyPassword(h, goodPassword) {
		t.Error("the right password does not verify")
	}
	for _, bad := range []string{"", "correct horse battery stapl", goodPassword + " "} {
		if access.VerifyPassword(h, bad) {
			t.Errorf("%q verifies", bad)
		}
	}
	for _, broken := range []string{"", "plain", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", strings.Replace(h, "argon2id", "argon2i", 1)} {
		if access.VerifyPassword(broken, goodPassword) {
			t.Errorf("malformed hash %q verifies", broken)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pw string
		ok       bool
	}{
		{"alice", "short", false},
		{"alice", "elevenchars", false},
		{"alice", "twelve chars", true},
		{"alicealicealice", "AliceAliceAlice", false},
		{"bob", strings.Repeat("x", 1025), false},
	}
	for _, tt := range tests {
		err := access.CheckPassword(tt.name, tt.pw)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok=%v", tt.name, tt.pw, err, tt.ok)
		}
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "Alice", access.RoleCoder)
	if _, err := f.svc.CreateUser(f.ctx, "alice", []string{access.RoleCoder}, goodPassword); custodian.ErrorCode(err) != custodian.ECONFLICT {
		t.Errorf("duplicate user: %v, want ECONFLICT", err)
	}
	if _, err := f.svc.CreateUser(f.ctx, "bob", []string{"wizard"}, goodPassword); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("unknown role: %v, want EINVALID", err)
	}
	if _, err := f.svc.CreateUser(f.ctx, "bob", []string{access.RoleCoder}, "bob"); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("weak password: %v, want EINVALID", err)
	}
	if _, err := f.svc.CreateUser(f.ctx, "../etc", []string{access.RoleCoder}, goodPassword); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("bad name: %v, want EINVALID", err)
	}
	// Only those allowed may manage users.
	clinician := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "c", Kind: access.KindUser, Roles: []string{access.RoleClinician}})
	if _, err := f.svc.CreateUser(clinician, "carol", []string{access.RoleCoder}, goodPassword); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("clinician adding a user: %v, want EFORBIDDEN", err)
	}
	if _, err := f.svc.FindUsers(context.Background()); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Errorf("no actor listing users: %v, want EUNAUTHORIZED", err)
	}
	users, err := f.svc.FindUsers(f.ctx)
	if err != nil || len(users) != 1 || users[0].Name != "alice" || users[0].Roles[0] != access.RoleCoder {
		t.Fatalf("FindUsers = %v, %v", users, err)
	}
	if strings.Contains(users[0].PasswordHash, goodPassword) || !strings.HasPrefix(users[0].PasswordHash, "$argon2id$") {
		t.Error("the stored password is not an argon2id hash")
	}
	// The password never reaches the table in plain text.
	if raw := f.dump(t, "access_users"); strings.Contains(raw, goodPassword) {
		t.Error("access_users holds the password")
	}
}

func TestSignInAndSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "alice", access.RoleCoder)
	in, err := f.svc.SignIn(context.Background(), "Alice", goodPassword, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.SessionID) < 43 || in.CSRF == "" || in.CSRF == in.SessionID {
		t.Fatalf("session id %d chars, CSRF %q", len(in.SessionID), in.CSRF)
	}
	if got := f.audit.last(); got != "user:alice:10.0.0.1:ok:ok" {
		t.Errorf("audit = %q", got)
	}
	// Only the hash of the id is stored.
	if raw := f.dump(t, "access_sessions"); strings.Contains(raw, in.SessionID) || strings.Contains(raw, in.CSRF) {
		t.Error("the session id or its CSRF token is stored in plain text")
	}
	st, err := f.svc.Session(context.Background(), in.SessionID)
	if err != nil || st.User != "alice" || st.Roles[0] != access.RoleCoder || !st.CheckCSRF(in.CSRF) || st.CheckCSRF("") || st.CheckCSRF(in.CSRF+"x") {
		t.Fatalf("Session = %+v, %v", st, err)
	}
	// A second sign-in gets a different session.
	in2, err := f.svc.SignIn(context.Background(), "alice", goodPassword, "10.0.0.1")
	if err != nil || in2.SessionID == in.SessionID || in2.CSRF == in.CSRF {
		t.Fatalf("second sign-in reused the session: %v", err)
	}
	alice := custodian.NewContextWithActor(context.Background(), &custodian.Actor{ID: "alice", Kind: access.KindUser, Roles: []string{access.RoleCoder}})
	if err := f.svc.SignOut(alice, in2.SessionID); err != nil {
		t.Fatal(err)
	}
	if got := f.audit.last(); got != "admin:signout:User/alice:ok" {
		t.Errorf("sign-out audit = %q", got)
	}
	if _, err := f.svc.Session(context.Background(), in2.SessionID); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Errorf("signed-out session: %v", err)
	}
	if _, err := f.svc.Session(context.Background(), "forged-session-id"); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Errorf("forged session: %v", err)
	}
	// New roles end the sessions held under the old ones.
	if err := f.svc.SetRoles(f.ctx, "alice", []string{access.RoleRecordAnalyst}); err != nil {
		t.Fatal(err)
	}
	if got := f.audit.last(); got != "admin:user-set-roles:User/alice:ok" {
		t.Errorf("set-roles audit = %q", got)
	}
	if _, err := f.svc.Session(context.Background(), in.SessionID); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Errorf("session kept its old roles: %v", err)
	}
	in3, err := f.svc.SignIn(context.Background(), "alice", goodPassword, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := f.svc.Session(context.Background(), in3.SessionID); err != nil || st.Roles[0] != access.RoleRecordAnalyst {
		t.Errorf("new session roles: %+v %v", st, err)
	}
	if err := f.svc.SetRoles(alice, "alice", []string{access.RoleAdministrator}); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("a coder gave herself the administrator role: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "alice", access.RoleCoder)
	ctx := context.Background()

	// Idle: 29 minutes apart keeps it alive, 31 ends it.
	in, err := f.svc.SignIn(ctx, "alice", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		f.clock.Add(29 * time.Minute)
		if _, err := f.svc.Session(ctx, in.SessionID); err != nil {
			t.Fatalf("session used every 29 minutes ended: %v", err)
		}
	}
	f.clock.Add(31 * time.Minute)
	if _, err := f.svc.Session(ctx, in.SessionID); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Fatalf("session idle 31 minutes: %v, want EUNAUTHORIZED", err)
	}

	// Absolute: used every 20 minutes, it still ends after 12 hours.
	in, err = f.svc.SignIn(ctx, "alice", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		f.clock.Add(20 * time.Minute)
		if _, err := f.svc.Session(ctx, in.SessionID); err != nil {
			t.Fatalf("session ended after %v: %v", elapsed, err)
		}
	}
	f.clock.Add(21 * time.Minute)
	if _, err := f.svc.Session(ctx, in.SessionID); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Fatalf("session older than 12 hours: %v, want EUNAUTHORIZED", err)
	}

	// Disabling a user ends their sessions at once.
	in, _ = f.svc.SignIn(ctx, "alice", goodPassword, "")
	if err := f.svc.DisableUser(f.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, in.SessionID); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, ""); !errors.Is(err, access.ErrBadCredentials) {
		t.Fatalf("disabled user signed in: %v", err)
	}
	if got := f.audit.last(); !strings.HasSuffix(got, ":fail:disabled") {
		t.Errorf("audit = %q", got)
	}
}

func TestLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "alice", access.RoleCoder)
	ctx := context.Background()
	for i := range 5 {
		if _, err := f.svc.SignIn(ctx, "alice", "wrong password "+string(rune('a'+i)), "10.0.0.2"); !errors.Is(err, access.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if got := f.audit.last(); got != "user:alice:10.0.0.2:fail:bad-password-locked" {
		t.Errorf("audit = %q", got)
	}
	// Locked: even the right password fails, with the same message.
	_, err := f.svc.SignIn(ctx, "alice", goodPassword, "10.0.0.3")
	if !errors.Is(err, access.ErrBadCredentials) {
		t.Fatalf("locked account signed in: %v", err)
	}
	if got := f.audit.last(); got != "user:alice:10.0.0.3:fail:locked" {
		t.Errorf("audit = %q", got)
	}
	f.clock.Add(14 * time.Minute)
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, "10.0.0.3"); err == nil {
		t.Fatal("signed in 14 minutes into a 15 minute lock")
	}
	f.clock.Add(2 * time.Minute)
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, "10.0.0.3"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// Success resets the count: four more failures do not lock.
	for range 4 {
		f.svc.SignIn(ctx, "alice", "wrong password!", "10.0.0.4")
	}
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, "10.0.0.4"); err != nil {
		t.Fatalf("locked after 4 failures: %v", err)
	}
	// An unknown name fails the same way, and is audited.
	if _, err := f.svc.SignIn(ctx, "mallory", goodPassword, "10.0.0.5"); !errors.Is(err, access.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	if got := f.audit.last(); got != "user:mallory:10.0.0.5:fail:unknown-user" {
		t.Errorf("audit = %q", got)
	}
}

func TestAddressThrottle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.AddressFailures = 3
	f.addUser(t, "alice", access.RoleCoder)
	ctx := context.Background()
	// Spraying names from one address: each a different user, so no lock.
	for _, name := range []string{"u1", "u2", "u3"} {
		f.svc.SignIn(ctx, name, "some password!", "192.0.2.9")
	}
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, "192.0.2.9"); !errors.Is(err, access.ErrThrottled) {
		t.Fatalf("4th attempt from a noisy address: %v, want ErrThrottled", err)
	}
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, "192.0.2.10"); err != nil {
		t.Fatalf("another address is throttled too: %v", err)
	}
	f.clock.Add(16 * time.Minute)
	if _, err := f.svc.SignIn(ctx, "alice", goodPassword, "192.0.2.9"); err != nil {
		t.Fatalf("throttle outlived its window: %v", err)
	}
}

func TestSignInNeedsAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "alice", access.RoleCoder)
	f.audit.fail = true
	if _, err := f.svc.SignIn(context.Background(), "alice", goodPassword, ""); err == nil {
		t.Fatal("signed in although the audit trail refused the entry")
	}
	var n int
	f.db.SQL().QueryRow(`SELECT count(*) FROM access_sessions`).Scan(&n)
	if n != 0 {
		t.Errorf("%d sessions left after an unaudited sign-in", n)
	}
}

func TestBootstrapAndPasswords(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	pw, created, err := f.svc.Bootstrap(ctx, "")
	if err != nil || !created || len(pw) < access.MinPasswordLength {
		t.Fatalf("Bootstrap = %q, %v, %v", pw, created, err)
	}
	if _, again, _ := f.svc.Bootstrap(ctx, ""); again {
		t.Fatal("a second bootstrap made another administrator")
	}
	in, err := f.svc.SignIn(ctx, "admin", pw, "")
	if err != nil || !in.MustChange {
		t.Fatalf("admin sign-in: %v, must change %v", err, in != nil && in.MustChange)
	}
	if err := f.svc.ChangePassword(ctx, "admin", "wrong current pw", "a brand new password"); custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
		t.Errorf("change with a wrong current password: %v", err)
	}
	if err := f.svc.ChangePassword(ctx, "admin", pw, pw); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("change to the same password: %v", err)
	}
	if err := f.svc.ChangePassword(ctx, "admin", pw, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, in.SessionID); err == nil {
		t.Error("the session survived a password change")
	}
	in, err = f.svc.SignIn(ctx, "admin", "a brand new password", "")
	if err != nil || in.MustChange {
		t.Fatalf("sign-in with the new password: %v", err)
	}
	// The CLI's passwd: no current password needed, clears the lock.
	if err := f.svc.SetPassword(f.ctx, "admin", "yet another password"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetPassword(f.ctx, "nobody", "yet another password"); custodian.ErrorCode(err) != custodian.ENOTFOUND {
		t.Errorf("passwd of an unknown user: %v", err)
	}

	// From the environment: that password, still must-change.
	g := newFixture(t)
	if pw, created, err := g.svc.Bootstrap(ctx, "operator chosen pw"); err != nil || !created || pw != "operator chosen pw" {
		t.Fatalf("Bootstrap from env = %q %v %v", pw, created, err)
	}
	if in, err := g.svc.SignIn(ctx, "admin", "operator chosen pw", ""); err != nil || !in.MustChange {
		t.Fatalf("env admin: %v", err)
	}
}
