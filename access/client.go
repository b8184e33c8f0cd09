package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
)

// CreateClient registers an API client with the scopes it may be granted
// and its roles (integration-client when none are given). It returns the
// client and its secret, which is not kept anywhere and cannot be shown
// again. Errors: EUNAUTHORIZED, EFORBIDDEN, EINVALID, ECONFLICT (the name
// is taken).
func (s *Service) CreateClient(ctx context.Context, name string, scopes, roles []string) (*Client, string, error) {
	c, secret, err := s.createClient(ctx, name, scopes, roles)
	target := "Client/" + name
	if c != nil {
		target = "Client/" + c.ID
	}
	if err = s.administered(ctx, "client-create", target, err); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

func (s *Service) createClient(ctx context.Context, name string, scopes, roles []string) (*Client, string, error) {
	if err := requireManager(ctx, TypeClient, Create); err != nil {
		return nil, "", err
	}
	name, err := NormalizeName(name)
	if err != nil {
		return nil, "", err
	}
	if len(scopes) == 0 {
		return nil, "", custodian.Errorf(custodian.EINVALID, "a client needs at least one scope (e.g. system/*.read)")
	}
	for _, sc := range scopes {
		if _, err := ParseScope(sc); err != nil {
			return nil, "", err
		}
	}
	if len(roles) == 0 {
		roles = []string{RoleIntegrationClient}
	}
	for _, r := range roles {
		if !isRole(r) {
			return nil, "", custodian.Errorf(custodian.EINVALID, "unknown role %q", r)
		}
	}
	idb := make([]byte, 12)
	if _, err := rand.Read(idb); err != nil {
		return nil, "", err
	}
	secret := randomToken(32) // 256 bits
	c := &Client{
		ID: hex.EncodeToString(idb), Name: name, SecretHash: hashSecret(secret),
		Scopes: scopes, Roles: roles, Created: s.now(),
	}
	if err := s.Store.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// FindClients lists every client (never their secrets, which are not kept).
// Errors: EUNAUTHORIZED, EFORBIDDEN.
func (s *Service) FindClients(ctx context.Context) ([]*Client, error) {
	if err := requireManager(ctx, TypeClient, Search); err != nil {
		return nil, err
	}
	return s.Store.FindClients(ctx)
}

// DisableClient stops the client with id or name idOrName from getting
// tokens; tokens it holds stop working within clientCacheTTL.
// Errors: EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND.
func (s *Service) DisableClient(ctx context.Context, idOrName string) error {
	return s.administered(ctx, "client-disable", "Client/"+idOrName, s.disableClient(ctx, idOrName))
}

func (s *Service) disableClient(ctx context.Context, idOrName string) error {
	if err := requireManager(ctx, TypeClient, Update); err != nil {
		return err
	}
	if err := s.Store.DisableClient(ctx, strings.ToLower(strings.TrimSpace(idOrName))); err != nil {
		return err
	}
	s.mu.Lock()
	s.clients = nil
	s.mu.Unlock()
	return nil
}

// VerifyClientSecret reports whether secret is the one given to c. Client
// secrets are 256 random bits, so a plain SHA-256 resists guessing as well
// as a slow hash would, and keeps the token endpoint cheap.
func VerifyClientSecret(c *Client, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.SecretHash)) == 1
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256$" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// clientCacheTTL bounds how long a bearer token keeps working after its
// client is disabled (in another process; in this one it is at once).
const clientCacheTTL = 30 * time.Second

type clientEntry struct {
	client  *Client
	fetched time.Time
}

// client returns the client with id, from a short-lived cache so bearer
// requests do not each read the database.
func (s *Service) client(ctx context.Context, id string) (*Client, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.clients[id]
	s.mu.Unlock()
	if ok && now.Sub(e.fetched) < clientCacheTTL && !now.Before(e.fetched) {
		return e.client, nil
	}
	c, err := s.Store.FindClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.clients == nil || len(s.clients) > 10000 {
		s.clients = map[string]clientEntry{}
	}
	s.clients[id] = clientEntry{client: c, fetched: now}
	s.mu.Unlock()
	return c, nil
}
