// Package access knows who may act in Custodian: users with roles, API
// clients with SMART-style scopes, how they prove who they are (passwords,
// sessions, signed tokens) and what each role and scope allows.
//
// The package holds the rules; it keeps its state through the small Store
// interface (implemented by sqldb) and never speaks HTTP (httpauth adapts it).
package access

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custodian-him/custodian"
)

// Roles a user (or client) may hold.
const (
	RoleHIMDirector       = "him-director"
	RoleCoder             = "coder"
	RoleRecordAnalyst     = "record-analyst"
	RoleROISpecialist     = "roi-specialist"
	RoleRegistrar         = "registrar"
	RolePrivacyOfficer    = "privacy-officer"
	RoleClinician         = "clinician"
	RoleAuditor           = "auditor"
	RoleAdministrator     = "administrator"
	RoleIntegrationClient = "integration-client"
)

// Roles lists every role, in a stable order.
var Roles = []string{
	RoleHIMDirector, RoleCoder, RoleRecordAnalyst, RoleROISpecialist, RoleRegistrar,
	RolePrivacyOfficer, RoleClinician, RoleAuditor, RoleAdministrator, RoleIntegrationClient,
}

// Actor kinds (custodian.Actor.Kind).
const (
	KindUser   = "user"
	KindClient = "client"
	KindSystem = "system"
)

// User is a person who signs in to the workbench.
type User struct {
	Name         string
	Roles        []string
	PasswordHash string // argon2id, PHC string format; never the password
	// MustChange is set for a password someone else chose (the first-start
	// administrator); the user must choose a new one before doing anything else.
	MustChange     bool
	Disabled       bool
	FailedAttempts int       // consecutive failed sign-ins since the last success or lock
	LockedUntil    time.Time // zero when not locked
	Created        time.Time
	Updated        time.Time
}

// Client is a program that calls the FHIR API with OAuth2 client credentials.
type Client struct {
	ID         string
	Name       string
	SecretHash string // SHA-256 of the secret, "sha256$<base64>"; the secret itself is shown once
	Scopes     []string
	Roles      []string
	Disabled   bool
	Created    time.Time
}

// Session is a signed-in browser session. Only the SHA-256 of its id is
// stored, so a copy of the database does not let anyone take it over.
type Session struct {
	IDHash   []byte
	User     string
	Created  time.Time
	LastSeen time.Time

	// Filled in by Store.FindSession from the user's row.
	Roles      []string
	MustChange bool
	Disabled   bool
}

// SigningKey is a token signing key pair as stored: PKCS #8 DER.
type SigningKey struct {
	KID        string
	Alg        string
	PrivateDER []byte
	Created    time.Time
}

// UserUpdate changes some fields of a user; nil fields are left alone.
type UserUpdate struct {
	Roles        []string
	PasswordHash *string
	MustChange   *bool
	Disabled     *bool
	// Unlock clears failed attempts and any lock.
	Unlock bool
}

// Store keeps identities, sessions and keys. Find methods return an
// ENOTFOUND error when there is nothing; Create methods ECONFLICT for a
// name or id that exists.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	FindUserByName(ctx context.Context, name string) (*User, error)
	FindUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	UpdateUser(ctx context.Context, name string, upd UserUpdate, now time.Time) error
	// RecordFailure counts one failed sign-in of name; when the count
	// reaches limit it sets LockedUntil to lockUntil and clears the count,
	// in one transaction, and reports whether it locked.
	RecordFailure(ctx context.Context, name string, limit int, lockUntil time.Time) (locked bool, err error)

	CreateClient(ctx context.Context, c *Client) error
	FindClientByID(ctx context.Context, id string) (*Client, error)
	FindClients(ctx context.Context) ([]*Client, error)
	// DisableClient disables the client whose id or name is idOrName.
	DisableClient(ctx context.Context, idOrName string) error

	CreateSession(ctx context.Context, s *Session) error
	FindSession(ctx context.Context, idHash []byte) (*Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteSessions removes every session of user, and every session
	// last seen before idleBefore or created before createdBefore.
	DeleteSessions(ctx context.Context, user string, idleBefore, createdBefore time.Time) error

	// SigningKeys returns the stored keys, oldest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
	AddSigningKey(ctx context.Context, k *SigningKey) error
}

// AuditSink records authentication attempts in the audit trail. actor is
// who tried (for a failure, the name they gave); reason is a short code
// such as "ok", "bad-password", "locked". A nil sink records nothing.
type AuditSink interface {
	SignIn(ctx context.Context, actor *custodian.Actor, ok bool, reason string) error
}

// AdminAuditSink is an AuditSink that also records the management of
// identities: users and clients created, disabled or given new passwords,
// and sign-outs. action is such as "user-create"; target names the user
// ("User/ana") or client ("Client/<id>"); failure is nil on success.
type AdminAuditSink interface {
	Administer(ctx context.Context, action, target string, failure error) error
}

// administered records a management action when the sink can, and returns
// err unchanged (or the audit failure, which then wins: nothing is done
// unrecorded).
func (s *Service) administered(ctx context.Context, action, target string, err error) error {
	sink, ok := s.Audit.(AdminAuditSink)
	if !ok {
		return err
	}
	if aerr := sink.Administer(ctx, action, target, err); aerr != nil && err == nil {
		return aerr
	}
	return err
}

// Service applies the rules of identity and authentication over a Store.
// Set the fields before first use; NewService fills in the defaults.
type Service struct {
	Store  Store
	Audit  AuditSink
	Logger *slog.Logger
	Now    func() time.Time

	TokenTTL         time.Duration // lifetime of an access token
	SessionIdle      time.Duration // a session unused this long ends
	SessionAbsolute  time.Duration // a session ends this long after sign-in, used or not
	LockoutThreshold int           // failed sign-ins in a row that lock an account
	LockoutDuration  time.Duration
	// AddressFailures failed sign-ins from one address within
	// AddressWindow make further attempts from it wait (any user name).
	AddressFailures int
	AddressWindow   time.Duration

	mu         sync.Mutex
	keys       []*signingKey
	keysLoaded time.Time
	throttle   map[string]*addrCount
	clients    map[string]clientEntry
	// verified remembers tokens whose signature, issuer and audience were
	// checked, by verifiedKey.
	verified map[[32]byte]tokenClaims
}

// NewService returns a Service over st with the default policy: 15 minute
// tokens, 30 minute idle and 12 hour absolute sessions, a 15 minute lock
// after 5 failures, and at most 20 failures per address in 15 minutes.
func NewService(st Store) *Service {
	return &Service{
		Store:            st,
		Now:              time.Now,
		Logger:           slog.New(slog.DiscardHandler),
		TokenTTL:         15 * time.Minute,
		SessionIdle:      30 * time.Minute,
		SessionAbsolute:  12 * time.Hour,
		LockoutThreshold: 5,
		LockoutDuration:  15 * time.Minute,
		AddressFailures:  20,
		AddressWindow:    15 * time.Minute,
	}
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// NormalizeName lower-cases a user or client name and checks its form:
// 1–64 of a-z 0-9 . _ - starting with a letter or digit. EINVALID otherwise.
func NormalizeName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !nameRE.MatchString(n) {
		return "", custodian.Errorf(custodian.EINVALID, "a name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return n, nil
}

// ParseRoles splits a comma-separated list of roles and checks each is
// known. EINVALID for an unknown or empty list.
func ParseRoles(list string) ([]string, error) {
	var out []string
	for _, r := range strings.Split(list, ",") {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			continue
		}
		if !isRole(r) {
			return nil, custodian.Errorf(custodian.EINVALID, "unknown role %q (roles: %s)", r, strings.Join(Roles, ", "))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, custodian.Errorf(custodian.EINVALID, "at least one role is needed (roles: %s)", strings.Join(Roles, ", "))
	}
	return out, nil
}

func isRole(r string) bool { return slices.Contains(Roles, r) }

// requireManager checks that the actor in ctx may manage identities.
func requireManager(ctx context.Context, typ, interaction string) error {
	return Allowed(custodian.ActorFromContext(ctx), typ, interaction)
}
