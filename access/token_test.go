package access_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

const (
	iss = "https://him.example.org"
	aud = "https://him.example.org/fhir"
)

func TestClients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cl, secret, err := f.svc.CreateClient(f.ctx, "Lab-Feed", []string{"system/*.read", "system/Observation.write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Name != "lab-feed" || cl.Roles[0] != access.RoleIntegrationClient || len(secret) < 43 {
		t.Fatalf("client %+v, secret of %d chars", cl, len(secret))
	}
	if strings.Contains(cl.SecretHash, secret) || !access.VerifyClientSecret(cl, secret) || access.VerifyClientSecret(cl, secret+"x") {
		t.Fatal("the secret hash does not verify the secret, or holds it")
	}
	// The secret is stored nowhere; listing shows no secret.
	if raw := f.dump(t, "access_clients"); !strings.Contains(raw, cl.ID) || strings.Contains(raw, secret) {
		t.Error("access_clients holds the secret")
	}
	if _, _, err := f.svc.CreateClient(f.ctx, "lab-feed", []string{"system/*.read"}, nil); custodian.ErrorCode(err) != custodian.ECONFLICT {
		t.Errorf("duplicate name: %v", err)
	}
	if _, _, err := f.svc.CreateClient(f.ctx, "x", []string{"everything"}, nil); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("bad scope: %v", err)
	}
	if _, _, err := f.svc.CreateClient(f.ctx, "x", nil, nil); custodian.ErrorCode(err) != custodian.EINVALID {
		t.Errorf("no scope: %v", err)
	}
	list, err := f.svc.FindClients(f.ctx)
	if err != nil || len(list) != 1 || list[0].ID != cl.ID {
		t.Fatalf("FindClients = %v, %v", list, err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cl, secret, err := f.svc.CreateClient(f.ctx, "feed", []string{"system/*.read", "system/Patient.write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := access.TokenRequest{ClientID: cl.ID, Secret: secret, Issuer: iss, Audience: aud, Address: "10.1.1.1"}
	tok, err := f.svc.IssueToken(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 900 || tok.Scope != "system/*.read system/Patient.write" {
		t.Errorf("token expires in %d, scope %q", tok.ExpiresIn, tok.Scope)
	}
	if got := f.audit.last(); got != "client:"+cl.ID+":10.1.1.1:ok:token" {
		t.Errorf("audit = %q", got)
	}
	a, err := f.svc.VerifyToken(ctx, tok.AccessToken, iss, aud)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != cl.ID || a.Kind != access.KindClient || strings.Join(a.Scopes, " ") != tok.Scope || a.Roles[0] != access.RoleIntegrationClient {
		t.Errorf("actor = %+v", a)
	}
	if err := access.Allowed(a, "Observation", "search"); err != nil {
		t.Errorf("read scope refused a search: %v", err)
	}
	if err := access.Allowed(a, "Observation", "create"); custodian.ErrorCode(err) != custodian.EFORBIDDEN {
		t.Errorf("read scope allowed a create: %v", err)
	}

	// A narrower scope may be asked for; a wider one may not.
	req.Scopes = []string{"system/Patient.rs"}
	if tok2, err := f.svc.IssueToken(ctx, req); err != nil || tok2.Scope != "system/Patient.rs" {
		t.Errorf("narrower scope: %v %v", tok2, err)
	}
	for _, wider := range [][]string{{"system/*.write"}, {"system/Observation.c"}, {"user/*.read"}, {"nonsense"}} {
		req.Scopes = wider
		if _, err := f.svc.IssueToken(ctx, req); !errors.Is(err, access.ErrInvalidScope) {
			t.Errorf("scope %q: %v, want ErrInvalidScope", wider, err)
		}
	}
	req.Scopes = nil

	// Wrong secret, unknown client.
	bad := req
	bad.Secret = secret[:len(secret)-1]
	if _, err := f.svc.IssueToken(ctx, bad); !errors.Is(err, access.ErrInvalidClient) {
		t.Errorf("wrong secret: %v", err)
	}
	if got := f.audit.last(); !strings.HasSuffix(got, ":fail:bad-client-credentials") {
		t.Errorf("audit = %q", got)
	}
	bad = req
	bad.ClientID = "nosuchclient"
	if _, err := f.svc.IssueToken(ctx, bad); !errors.Is(err, access.ErrInvalidClient) {
		t.Errorf("unknown client: %v", err)
	}

	// Wrong issuer or audience.
	if _, err := f.svc.VerifyToken(ctx, tok.AccessToken, "https://evil.example", aud); !errors.Is(err, access.ErrInvalidToken) {
		t.Errorf("wrong issuer: %v", err)
	}
	if _, err := f.svc.VerifyToken(ctx, tok.AccessToken, iss, "https://other.example/fhir"); !errors.Is(err, access.ErrInvalidToken) {
		t.Errorf("wrong audience: %v", err)
	}
	// Expired (after 15 minutes and the 30 s leeway).
	f.clock.Add(15*time.Minute + 31*time.Second)
	if _, err := f.svc.VerifyToken(ctx, tok.AccessToken, iss, aud); !errors.Is(err, access.ErrInvalidToken) {
		t.Errorf("expired token: %v", err)
	}

	// A disabled client can neither get nor use tokens.
	tok, _ = f.svc.IssueToken(ctx, req)
	if err := f.svc.DisableClient(f.ctx, "feed"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.VerifyToken(ctx, tok.AccessToken, iss, aud); !errors.Is(err, access.ErrInvalidToken) {
		t.Errorf("token of a disabled client: %v", err)
	}
	if _, err := f.svc.IssueToken(ctx, req); !errors.Is(err, access.ErrInvalidClient) {
		t.Errorf("disabled client got a token: %v", err)
	}
}

func TestSigningKeyKeptAndPublished(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b, err := f.svc.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", b, err)
	}
	k := set.Keys[0]
	if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["use"] != "sig" || k["kid"] == "" || len(k["x"]) != 43 || len(k["y"]) != 43 {
		t.Errorf("key %v", k)
	}
	if _, ok := k["d"]; ok {
		t.Fatal("the JWKS publishes the private key")
	}
	// A second service over the same database uses the same key.
	other := access.NewService(f.svc.Store)
	if err := other.Open(ctx); err != nil {
		t.Fatal(err)
	}
	b2, _ := other.JWKS(ctx)
	if string(b2) != string(b) {
		t.Errorf("the key changed on reopening:\n%s\n%s", b, b2)
	}
}

// TestKeyFromAnotherNode: a node that signs with a key this one has not
// loaded (two nodes made keys at the same moment) is still believed.
func TestKeyFromAnotherNode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cl, secret, err := f.svc.CreateClient(f.ctx, "feed", []string{"system/*.read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	// Older than the first key, so every node now signs with it.
	if err := f.svc.Store.AddSigningKey(ctx, &access.SigningKey{KID: "node-2", Alg: "ES256", PrivateDER: der, Created: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}
	other := access.NewService(f.svc.Store)
	other.Now = f.clock.Now
	if err := other.Open(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := other.IssueToken(ctx, access.TokenRequest{ClientID: cl.ID, Secret: secret, Issuer: iss, Audience: aud})
	if err != nil {
		t.Fatal(err)
	}
	// Keys are reread at most every 5 seconds, so garbage kids cannot
	// make every request read the database.
	f.clock.Add(6 * time.Second)
	if _, err := f.svc.VerifyToken(ctx, tok.AccessToken, iss, aud); err != nil {
		t.Fatalf("the first node refuses the second's token: %v", err)
	}
}
