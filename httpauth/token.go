package httpauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/custodian-him/custodian/access"
)

// token is the OAuth 2.0 token endpoint (RFC 6749 §4.4, client
// credentials). The client authenticates with HTTP Basic or with
// client_id and client_secret in the form, never both.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request must be application/x-www-form-urlencoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The form could not be read.")
		return
	}
	f := r.PostForm
	for _, k := range []string{"grant_type", "client_id", "client_secret", "scope"} {
		if len(f[k]) > 1 {
			oauthError(w, http.StatusBadRequest, "invalid_request", "A parameter is repeated.")
			return
		}
	}
	switch gt := f.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required.")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Only the client_credentials grant is supported.")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		if f.Has("client_secret") {
			oauthError(w, http.StatusBadRequest, "invalid_request", "Use one way of client authentication, not two.")
			return
		}
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			h.invalidClient(w, basic)
			return
		}
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id == "" || secret == "" {
		h.invalidClient(w, basic)
		return
	}
	tok, err := h.Service.IssueToken(r.Context(), access.TokenRequest{
		ClientID: id, Secret: secret, Scopes: strings.Fields(f.Get("scope")),
		Issuer: h.issuer(r), Audience: h.audience(r), Address: remoteHost(r),
	})
	switch {
	case errors.Is(err, access.ErrInvalidClient):
		h.invalidClient(w, basic)
		return
	case errors.Is(err, access.ErrInvalidScope):
		oauthError(w, http.StatusBadRequest, "invalid_scope", "The requested scope is invalid or exceeds what the client may have.")
		return
	case err != nil:
		h.logger().Error("issuing a token", "err", err)
		oauthError(w, http.StatusInternalServerError, "server_error", "Internal error.")
		return
	}
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok.AccessToken,
		"token_type":   "Bearer",
		"expires_in":   tok.ExpiresIn,
		"scope":        tok.Scope,
	})
}

func (h *Handler) invalidClient(w http.ResponseWriter, basic bool) {
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="custodian"`)
	}
	oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
}

// oauthError writes an RFC 6749 §5.2 error response.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// jwks publishes the public keys that verify access tokens.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	b, err := h.Service.JWKS(r.Context())
	if err != nil {
		h.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

// smartConfiguration is the SMART App Launch discovery document, listing
// what a backend-services client needs.
func (h *Handler) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	base := h.issuer(r)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                base,
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"token_endpoint":                        base + "/oauth/token",
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"system/*.read", "system/*.rs", "system/*.cruds", "user/*.read", "user/*.rs"},
		"capabilities":                          []string{"permission-v1", "permission-v2"},
	})
}
