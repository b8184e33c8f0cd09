package httpauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, secret := e.addClient("feed", "system/*.read", "system/Patient.write")
	c := http.DefaultClient
	tokenURL := e.url("/oauth/token")

	// HTTP Basic (form-encoded, then base64) and form parameters both work.
	r := postForm(t, c, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Patient.rs"}},
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
	if r.status != 200 {
		t.Fatalf("basic: %d %s", r.status, r.body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	json.Unmarshal([]byte(r.body), &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || tok.Scope != "system/Patient.rs" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response %s, Cache-Control %q", r.body, r.header.Get("Cache-Control"))
	}
	// Its claims.
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, claims)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["alg"] != "ES256" || parsed.Header["typ"] != "at+jwt" || parsed.Header["kid"] == nil {
		t.Errorf("header %v", parsed.Header)
	}
	if claims["iss"] != e.srv.URL || claims["sub"] != id || claims["jti"] == nil || claims["scope"] != "system/Patient.rs" {
		t.Errorf("claims %v", claims)
	}
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != e.srv.URL+"/fhir" {
		t.Errorf("aud %v", aud)
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp.Sub(iat.Time) != 15*time.Minute {
		t.Errorf("lifetime %v", exp.Sub(iat.Time))
	}

	// The token is accepted and names the client and its scopes.
	r = do(t, c, "GET", e.url("/fhir/Patient"), nil, "Authorization", "Bearer "+tok.AccessToken, "X-Purpose-Of-Use", "TREAT")
	a := actorOf(t, r)
	if a.ID != id || a.Kind != "client" || strings.Join(a.Scopes, " ") != "system/Patient.rs" || a.Address != "127.0.0.1" || a.PurposeOfUse != "TREAT" {
		t.Errorf("actor %+v", a)
	}

	tests := []struct {
		name   string
		form   url.Values
		header []string
		status int
		code   string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret + "x"}}, nil, 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {secret}}, nil, 401, "invalid_client"},
		{"no credentials", url.Values{"grant_type": {"client_credentials"}}, nil, 401, "invalid_client"},
		{"wider scope", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"system/*.write"}}, nil, 400, "invalid_scope"},
		{"not a scope", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"admin"}}, nil, 400, "invalid_scope"},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, nil, 400, "unsupported_grant_type"},
		{"no grant", url.Values{"client_id": {id}, "client_secret": {secret}}, nil, 400, "invalid_request"},
		{"two authentications", url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}},
			[]string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}, 400, "invalid_request"},
		{"repeated parameter", url.Values{"grant_type": {"client_credentials", "client_credentials"}, "client_id": {id}, "client_secret": {secret}}, nil, 400, "invalid_request"},
	}
	for _, tt := range tests {
		r := postForm(t, c, tokenURL, tt.form, tt.header...)
		var oe struct{ Error string }
		json.Unmarshal([]byte(r.body), &oe)
		if r.status != tt.status || oe.Error != tt.code || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.status, r.body, tt.status, tt.code)
		}
		if strings.Contains(r.body, secret) {
			t.Errorf("%s: the response echoes the secret", tt.name)
		}
	}
	if r := do(t, c, "POST", tokenURL, strings.NewReader(`{"grant_type":"client_credentials"}`), "Content-Type", "application/json"); r.status != 400 {
		t.Errorf("JSON body: %d", r.status)
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/.well-known/jwks.json", "/oauth/jwks"} {
		r := do(t, http.DefaultClient, "GET", e.url(p), nil)
		var set struct{ Keys []map[string]any }
		if err := json.Unmarshal([]byte(r.body), &set); r.status != 200 || err != nil || len(set.Keys) != 1 || set.Keys[0]["d"] != nil {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
	r := do(t, http.DefaultClient, "GET", e.url("/fhir/.well-known/smart-configuration"), nil)
	if r.status != 200 || !strings.Contains(r.body, `"token_endpoint":"`+e.srv.URL+`/oauth/token"`) {
		t.Errorf("smart-configuration: %d %s", r.status, r.body)
	}
}

// signingKey reads the service's private key from the database, to forge
// tokens that differ from a real one in exactly one way.
func (e *env) signingKey() (*ecdsa.PrivateKey, string) {
	e.t.Helper()
	var kid string
	var der []byte
	if err := e.db.SQL().QueryRow(`SELECT kid, private_key FROM access_keys`).Scan(&kid, &der); err != nil {
		e.t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		e.t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey), kid
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, secret := e.addClient("feed", "system/*.read")
	good := e.token(id, secret)
	key, kid := e.signingKey()
	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": e.srv.URL, "sub": id, "aud": []string{e.srv.URL + "/fhir"}, "client_id": id,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": "x", "scope": "system/*.read",
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(method jwt.SigningMethod, k any, c jwt.MapClaims, hdr map[string]any) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		tok.Header["typ"] = "at+jwt"
		for h, v := range hdr {
			tok.Header[h] = v
		}
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	parts := strings.Split(good, ".")
	none := func(c jwt.MapClaims) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		return s
	}

	// The control: a token forged with the real key and correct claims works,
	// so each failure below is down to the one thing changed.
	if r := do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Authorization", "Bearer "+sign(jwt.SigningMethodES256, key, claims(nil), nil)); r.status != 200 {
		t.Fatalf("control token refused: %d %s", r.status, r.body)
	}
	tests := []struct{ name, token string }{
		{"forged signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))},
		{"signed by another key", sign(jwt.SigningMethodES256, other, claims(nil), nil)},
		{"payload changed", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+id+`","scope":"system/*.cruds"}`)) + "." + parts[2]},
		{"expired", sign(jwt.SigningMethodES256, key, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), nil)},
		{"no expiry", sign(jwt.SigningMethodES256, key, claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil)},
		{"issued in the future", sign(jwt.SigningMethodES256, key, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), nil)},
		{"wrong audience", sign(jwt.SigningMethodES256, key, claims(func(c jwt.MapClaims) { c["aud"] = "https://other.example/fhir" }), nil)},
		{"wrong issuer", sign(jwt.SigningMethodES256, key, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil)},
		{"unknown client", sign(jwt.SigningMethodES256, key, claims(func(c jwt.MapClaims) { c["sub"] = "ghost" }), nil)},
		{"not an access token", sign(jwt.SigningMethodES256, key, claims(nil), map[string]any{"typ": "JWT"})},
		{"unknown kid", sign(jwt.SigningMethodES256, key, claims(nil), map[string]any{"kid": "other"})},
		{"alg none", none(claims(nil))},
		{"alg none with kid", func() string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + kid + `","typ":"at+jwt"}`))
			return h + "." + parts[1] + "."
		}()},
		{"HS256 with the public key (PEM)", sign(jwt.SigningMethodHS256, pubPEM, claims(nil), nil)},
		{"HS256 with the public key (DER)", sign(jwt.SigningMethodHS256, pubDER, claims(nil), nil)},
		{"garbage", "not.a.token"},
		{"empty", ""},
	}
	for _, tt := range tests {
		r := do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Authorization", "Bearer "+tt.token)
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") ||
			r.header.Get("Content-Type") != "application/fhir+json" || !strings.Contains(r.body, `"code":"login"`) {
			t.Errorf("%s: %d %q %s", tt.name, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
	}
	// A token issued for one host name is not good at another.
	req, _ := http.NewRequest("GET", e.url("/fhir/Patient"), nil)
	req.Host = "other.example"
	req.Header.Set("Authorization", "Bearer "+good)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("token used at another host name: %d", resp.StatusCode)
	}
	// Other schemes and no credentials at all.
	for _, h := range [][]string{
		{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))},
		{"X-Nothing", "x"},
	} {
		r := do(t, http.DefaultClient, "GET", e.url("/fhir/Patient?name=x"), nil, h...)
		if r.status != 401 || !strings.Contains(r.body, `"resourceType":"OperationOutcome"`) {
			t.Errorf("%s: %d %s", h[0], r.status, r.body)
		}
	}
	// The token stops working when it expires (by the service's clock).
	e.clock.Add(16 * time.Minute)
	if r := do(t, http.DefaultClient, "GET", e.url("/fhir/Patient"), nil, "Authorization", "Bearer "+good); r.status != 401 {
		t.Errorf("expired issued token: %d", r.status)
	}
}
