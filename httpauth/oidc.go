package httpauth

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

// OIDC accepts bearer tokens signed by a site's own OpenID Connect
// provider (Keycloak, Entra ID, Okta …), so people and systems the
// hospital already knows need no Custodian account. The provider's
// discovery document and keys are fetched on first use and the keys kept
// fresh by go-oidc; a provider that cannot be reached makes those tokens
// fail (401) and is tried again after RetryAfter, never more often.
//
// A token is accepted when its signature, issuer, audience and expiry hold
// and it names at least one Custodian role in RolesClaim. The actor is a
// user whose id is the UserClaim value followed by "@" and the issuer's
// host (so it cannot be confused with a local user of the same name); any
// SMART scopes in the "scope" claim narrow what the roles allow.
type OIDC struct {
	Issuer   string // the provider's issuer URL, exactly as in its tokens
	Audience string // the audience tokens must carry (the client id registered for Custodian)
	// RolesClaim names the claim holding Custodian role names (a list or a
	// space- or comma-separated string); "roles" when empty. Values that
	// are not Custodian roles are ignored.
	RolesClaim string
	// UserClaim names the claim that identifies the person or system;
	// "preferred_username" when empty, falling back to "sub".
	UserClaim string
	// RetryAfter is how long to wait before reaching for an unreachable
	// provider again (30 s when 0).
	RetryAfter time.Duration

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	failedAt time.Time
}

// errExternalToken is every refusal of an external token: the reason is
// not told to the caller.
var errExternalToken = access.ErrInvalidToken

// Verify checks raw and returns its actor. Errors: EUNAUTHORIZED for any
// token that is not good.
func (o *OIDC) Verify(ctx context.Context, raw string) (*custodian.Actor, error) {
	v, err := o.verifierFor(ctx)
	if err != nil {
		return nil, errExternalToken
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, errExternalToken
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, errExternalToken
	}
	roles := o.roles(claims)
	if len(roles) == 0 {
		return nil, errExternalToken
	}
	user := o.user(claims, tok.Subject)
	if user == "" {
		return nil, errExternalToken
	}
	host := o.Issuer
	if u, err := url.Parse(o.Issuer); err == nil && u.Host != "" {
		host = u.Host
	}
	a := &custodian.Actor{ID: user + "@" + host, Kind: access.KindUser, Roles: roles}
	if sc, _ := claims["scope"].(string); sc != "" {
		a.Scopes = strings.Fields(sc)
	}
	return a, nil
}

// verifierFor discovers the provider once, and again after a failure once
// RetryAfter has passed.
func (o *OIDC) verifierFor(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.verifier != nil {
		return o.verifier, nil
	}
	retry := o.RetryAfter
	if retry == 0 {
		retry = 30 * time.Second
	}
	if !o.failedAt.IsZero() && time.Since(o.failedAt) < retry {
		return nil, fmt.Errorf("the OpenID provider was unreachable %s ago", time.Since(o.failedAt).Round(time.Second))
	}
	// The provider's keys are fetched later with this context, so it must
	// outlive the request that happened to come first.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(dctx, nil), o.Issuer)
	if err != nil {
		o.failedAt = time.Now()
		return nil, err
	}
	o.verifier = p.Verifier(&oidc.Config{
		ClientID:             o.Audience,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.EdDSA},
	})
	return o.verifier, nil
}

func (o *OIDC) roles(claims map[string]any) []string {
	name := o.RolesClaim
	if name == "" {
		name = "roles"
	}
	var vals []string
	switch v := claims[name].(type) {
	case string:
		vals = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				vals = append(vals, s)
			}
		}
	}
	var out []string
	for _, r := range vals {
		r = strings.ToLower(strings.TrimSpace(r))
		if slices.Contains(access.Roles, r) && r != access.RoleIntegrationClient && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func (o *OIDC) user(claims map[string]any, sub string) string {
	name := o.UserClaim
	if name == "" {
		name = "preferred_username"
	}
	if s, _ := claims[name].(string); s != "" {
		return s
	}
	return sub
}
