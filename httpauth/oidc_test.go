package httpauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
	"github.com/custodian-him/custodian/httpauth"
	"github.com/custodian-him/custodian/sqldb"
	"github.com/custodian-him/custodian/sqldb/sqldbtest"
)

// provider is a local OpenID Connect provider: discovery and keys.
type provider struct {
	srv *httptest.Server
	key *ecdsa.PrivateKey
}

func newProvider(t *testing.T) *provider {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/keys",
			"authorization_endpoint": p.srv.URL + "/auth", "token_endpoint": p.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
		x, y := make([]byte, 32), make([]byte, 32)
		key.X.FillBytes(x)
		key.Y.FillBytes(y)
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256", "x": b64(x), "y": b64(y)}}})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) token(t *testing.T, key *ecdsa.PrivateKey, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExternalOIDCTokens(t *testing.T) {
	p := newProvider(t)
	svc := access.NewService(sqldb.NewAccessStore(sqldbtest.Open(t)))
	if err := svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &httpauth.Handler{Service: svc, External: &httpauth.OIDC{Issuer: p.srv.URL, Audience: "custodian"}}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(custodian.ActorFromContext(r.Context()))
	})
	srv := httptest.NewServer(h.Wrap(app))
	defer srv.Close()

	now := time.Now()
	good := jwt.MapClaims{"iss": p.srv.URL, "aud": "custodian", "sub": "u-123", "preferred_username": "ana",
		"roles": []string{"coder", "not-a-custodian-role"}, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	host := must(url.Parse(p.srv.URL)).Host
	cases := []struct {
		name   string
		token  string
		status int
		actor  string
	}{
		{"good", p.token(t, p.key, good), 200, "ana@" + host},
		{"sub when no username", p.token(t, p.key, with("preferred_username", nil)), 200, "u-123@" + host},
		{"wrong audience", p.token(t, p.key, with("aud", "someone-else")), 401, ""},
		{"wrong issuer", p.token(t, p.key, with("iss", "https://evil.example")), 401, ""},
		{"expired", p.token(t, p.key, with("exp", now.Add(-time.Hour).Unix())), 401, ""},
		{"no Custodian role", p.token(t, p.key, with("roles", []string{"admin"})), 401, ""},
		{"integration-client is not a person's role", p.token(t, p.key, with("roles", "integration-client")), 401, ""},
		{"another key", p.token(t, other, good), 401, ""},
		{"alg none", noneToken(good), 401, ""},
		{"garbage", "abc.def.ghi", 401, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", srv.URL+"/fhir/Patient", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a custodian.Actor
		json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			continue
		}
		if c.status == 200 && (a.ID != c.actor || a.Kind != access.KindUser || len(a.Roles) != 1 || a.Roles[0] != "coder") {
			t.Errorf("%s: actor %+v, want %s coder", c.name, a, c.actor)
		}
	}
}

// Scopes from an external token narrow what the roles allow.
func TestExternalScopesNarrowRoles(t *testing.T) {
	a := &custodian.Actor{ID: "ana@idp", Kind: access.KindUser, Roles: []string{access.RoleClinician}}
	if err := access.Allowed(a, "Patient", "read"); err != nil {
		t.Fatalf("clinician cannot read Patient: %v", err)
	}
	a.Scopes = []string{"openid", "user/Observation.read"}
	if err := access.Allowed(a, "Patient", "read"); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("scope user/Observation.read let a Patient read through: %v", err)
	}
	if err := access.Allowed(a, "Observation", "read"); err != nil {
		t.Errorf("scope user/Observation.read refused an Observation read: %v", err)
	}
}

func noneToken(c jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
