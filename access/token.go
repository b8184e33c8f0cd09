package access

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/golang-jwt/jwt/v5"
)

// Token errors, named after their OAuth 2.0 (RFC 6749 §5.2) error codes.
var (
	ErrInvalidClient = &custodian.Error{Code: custodian.EUNAUTHORIZED, Message: "Client authentication failed."}
	ErrInvalidScope  = &custodian.Error{Code: custodian.EINVALID, Message: "The requested scope is invalid or exceeds what the client may have."}
	ErrInvalidToken  = &custodian.Error{Code: custodian.EUNAUTHORIZED, Message: "The access token is missing, invalid or expired."}
)

// tokenType is the JWT "typ" of Custodian's access tokens (RFC 9068), so
// that no other kind of JWT signed with the same key is taken for one.
const tokenType = "at+jwt"

type signingKey struct {
	kid  string
	priv *ecdsa.PrivateKey
}

type tokenClaims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
}

// Open loads the token signing keys, creating an ES256 (P-256) key pair on
// first start. The private key is kept in the database (so every node
// behind a shared database signs alike); it is never logged or served.
func (s *Service) Open(ctx context.Context) error {
	if err := s.loadKeys(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	n := len(s.keys)
	s.mu.Unlock()
	if n > 0 {
		return nil
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	kid, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return err
	}
	if err := s.Store.AddSigningKey(ctx, &SigningKey{KID: kid, Alg: "ES256", PrivateDER: der, Created: s.now()}); err != nil {
		return err
	}
	// Reload: if another node added a key at the same moment, every node
	// now signs with the oldest and accepts both.
	return s.loadKeys(ctx)
}

func (s *Service) loadKeys(ctx context.Context) error {
	stored, err := s.Store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	var keys []*signingKey
	for _, k := range stored {
		if k.Alg != "ES256" {
			continue
		}
		p, err := x509.ParsePKCS8PrivateKey(k.PrivateDER)
		if err != nil {
			return custodian.Wrap(custodian.EINTERNAL, err, "a stored signing key is damaged")
		}
		priv, ok := p.(*ecdsa.PrivateKey)
		if !ok {
			return custodian.Errorf(custodian.EINTERNAL, "a stored ES256 signing key is not an ECDSA key")
		}
		keys = append(keys, &signingKey{kid: k.KID, priv: priv})
	}
	s.mu.Lock()
	s.keys = keys
	s.keysLoaded = s.now()
	s.mu.Unlock()
	return nil
}

func (s *Service) signingKey(ctx context.Context) (*signingKey, error) {
	s.mu.Lock()
	var k *signingKey
	if len(s.keys) > 0 {
		k = s.keys[0]
	}
	s.mu.Unlock()
	if k != nil {
		return k, nil
	}
	if err := s.Open(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[0], nil
}

// thumbprint is the RFC 7638 JWK thumbprint of pub, used as its key id.
func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	x, y, err := coordinates(pub)
	if err != nil {
		return "", err
	}
	// The members in lexical order, no spaces, as RFC 7638 requires.
	canon := `{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// coordinates returns pub's x and y, 32 bytes each, in base64url.
func coordinates(pub *ecdsa.PublicKey) (x, y string, err error) {
	e, err := pub.ECDH()
	if err != nil {
		return "", "", err
	}
	b := e.Bytes() // 0x04 || X || Y
	if len(b) != 65 {
		return "", "", errors.New("access: unexpected P-256 point length")
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b[1:33]), enc.EncodeToString(b[33:]), nil
}

// JWK is one public key in a JSON Web Key Set.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS returns the public keys that verify Custodian's tokens, as a JSON
// Web Key Set ({"keys": [...]}).
func (s *Service) JWKS(ctx context.Context) ([]byte, error) {
	if _, err := s.signingKey(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	keys := s.keys
	s.mu.Unlock()
	set := struct {
		Keys []JWK `json:"keys"`
	}{Keys: []JWK{}}
	for _, k := range keys {
		x, y, err := coordinates(&k.priv.PublicKey)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, JWK{Kty: "EC", Crv: "P-256", X: x, Y: y, Kid: k.kid, Use: "sig", Alg: "ES256"})
	}
	return json.Marshal(set)
}

// TokenRequest is an OAuth2 client_credentials request, already
// authenticated by nothing: IssueToken checks the secret.
type TokenRequest struct {
	ClientID string
	Secret   string
	// Scopes asked for; empty means every scope the client holds.
	Scopes []string
	// Issuer and Audience go into the token: Custodian's base URL and its
	// FHIR base URL.
	Issuer   string
	Audience string
	// Address is where the request came from, for the audit trail.
	Address string
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   int // seconds
	Scope       string
}

// IssueToken checks the client's credentials and issues a signed ES256 JWT
// (RFC 9068 "at+jwt") carrying iss, sub (the client id), aud, iat, exp,
// jti, client_id and scope, valid for TokenTTL. Every attempt goes to the
// AuditSink. Errors: ErrInvalidClient, ErrInvalidScope, EINTERNAL.
func (s *Service) IssueToken(ctx context.Context, req TokenRequest) (*Token, error) {
	now := s.now()
	actor := &custodian.Actor{ID: truncate(req.ClientID, 64), Kind: KindClient, Address: req.Address}
	c, err := s.Store.FindClientByID(ctx, strings.ToLower(req.ClientID))
	if err != nil && custodian.ErrorCode(err) != custodian.ENOTFOUND {
		return nil, err
	}
	if err != nil || !VerifyClientSecret(c, req.Secret) {
		s.audit(ctx, actor, false, "bad-client-credentials")
		return nil, ErrInvalidClient
	}
	actor.ID, actor.Roles, actor.Scopes = c.ID, c.Roles, c.Scopes
	if c.Disabled {
		s.audit(ctx, actor, false, "disabled")
		return nil, ErrInvalidClient
	}
	scopes, ok := grantScopes(c.Scopes, req.Scopes)
	if !ok {
		s.audit(ctx, actor, false, "invalid-scope")
		return nil, ErrInvalidScope
	}
	k, err := s.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return nil, err
	}
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    req.Issuer,
			Subject:   c.ID,
			Audience:  jwt.ClaimStrings{req.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.TokenTTL)),
			ID:        hex.EncodeToString(jti),
		},
		Scope:    strings.Join(scopes, " "),
		ClientID: c.ID,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = tokenType
	signed, err := t.SignedString(k.priv)
	if err != nil {
		return nil, err
	}
	actor.Scopes = scopes
	if s.Audit != nil {
		if err := s.Audit.SignIn(ctx, actor, true, "token"); err != nil {
			return nil, err
		}
	}
	return &Token{AccessToken: signed, ExpiresIn: int(s.TokenTTL / time.Second), Scope: claims.Scope}, nil
}

// VerifyToken checks an access token — an ES256 signature by one of our
// keys (no other algorithm is accepted, so "none" and HS256 made with the
// public key fail), type at+jwt, the issuer and audience given, not
// expired — and that its client still exists and is enabled. It returns
// the client as an actor with the token's scopes.
// Errors: ErrInvalidToken, EINTERNAL.
func (s *Service) VerifyToken(ctx context.Context, token, issuer, audience string) (*custodian.Actor, error) {
	if token == "" || len(token) > 8192 {
		return nil, ErrInvalidToken
	}
	// A token seen before with this issuer and audience skips the signature
	// check (a tenth of a create's CPU); its expiry and client are checked
	// on every use all the same.
	key := verifiedKey(token, issuer, audience)
	claims, ok := s.verifiedClaims(key)
	if ok {
		if exp := claims.ExpiresAt; exp == nil || !s.now().Before(exp.Add(30*time.Second)) {
			return nil, ErrInvalidToken
		}
		return s.tokenActor(ctx, claims)
	}
	_, err := jwt.ParseWithClaims(token, &claims, s.keyFor,
		jwt.WithValidMethods([]string{"ES256"}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(30*time.Second),
	)
	if err != nil {
		return nil, ErrInvalidToken
	}
	s.rememberVerified(key, claims)
	return s.tokenActor(ctx, claims)
}

// tokenActor is the client a verified token names, if it still exists and
// is enabled, with the token's scopes it still holds.
func (s *Service) tokenActor(ctx context.Context, claims tokenClaims) (*custodian.Actor, error) {
	c, err := s.client(ctx, claims.Subject)
	if custodian.ErrorCode(err) == custodian.ENOTFOUND {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, err
	}
	if c.Disabled {
		return nil, ErrInvalidToken
	}
	// Keep only scopes the client still holds.
	var scopes []string
	for _, sc := range strings.Fields(claims.Scope) {
		if _, ok := grantScopes(c.Scopes, []string{sc}); ok {
			scopes = append(scopes, sc)
		}
	}
	return &custodian.Actor{ID: c.ID, Kind: KindClient, Roles: c.Roles, Scopes: scopes}, nil
}

// keyFor finds the public key named by a token's kid header. A kid it
// does not know makes it reread the keys (another node may have made one),
// at most once per keyReloadEvery, so garbage kids cannot hammer the store.
func (s *Service) keyFor(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); typ != tokenType {
		return nil, errors.New("not an access token")
	}
	kid, _ := t.Header["kid"].(string)
	if k := s.findKey(kid); k != nil {
		return k, nil
	}
	s.mu.Lock()
	stale := s.now().Sub(s.keysLoaded) >= keyReloadEvery
	if stale {
		s.keysLoaded = s.now()
	}
	s.mu.Unlock()
	if stale {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.loadKeys(ctx); err != nil {
			return nil, err
		}
		if k := s.findKey(kid); k != nil {
			return k, nil
		}
	}
	return nil, errors.New("unknown key")
}

// keyReloadEvery bounds how often an unknown kid rereads the keys.
const keyReloadEvery = 5 * time.Second

func (s *Service) findKey(kid string) *ecdsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.kid == kid {
			return &k.priv.PublicKey
		}
	}
	return nil
}

// verifiedKey names a token checked against an issuer and audience.
func verifiedKey(token, issuer, audience string) [32]byte {
	h := sha256.New()
	h.Write([]byte(issuer))
	h.Write([]byte{0})
	h.Write([]byte(audience))
	h.Write([]byte{0})
	h.Write([]byte(token))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// maxVerified bounds the tokens remembered as verified; when full, the
// memory starts again (tokens live minutes, so it refills quickly).
const maxVerified = 4096

func (s *Service) verifiedClaims(key [32]byte) (tokenClaims, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.verified[key]
	return c, ok
}

func (s *Service) rememberVerified(key [32]byte, c tokenClaims) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verified == nil || len(s.verified) >= maxVerified {
		s.verified = make(map[[32]byte]tokenClaims)
	}
	s.verified[key] = c
}
