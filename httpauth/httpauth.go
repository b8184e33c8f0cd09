// Package httpauth puts package access on the web: the authentication
// middleware in front of every route, the OAuth2 token endpoint and key set,
// and the sign-in, sign-out and change-password pages.
//
// A request is authenticated by a bearer token (an API client) or by the
// session cookie (a signed-in user); either way the actor goes into the
// request's context (custodian.ActorFromContext). Requests that change
// state under a session cookie must carry the session's CSRF token, in the
// form field "csrf_token" or the header "X-CSRF-Token"; pages put it in
// their forms with CSRFField (or CSRFToken).
//
// Tokens, passwords, cookies and secrets are never logged.
package httpauth

import (
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

// Request fields the package reads.
const (
	CSRFFormField      = "csrf_token"
	CSRFHeader         = "X-CSRF-Token"
	PurposeOfUseHeader = "X-Purpose-Of-Use"
)

// Handler is the HTTP face of an access.Service. Set the fields, then use
// Wrap around the rest of the application.
type Handler struct {
	Service *access.Service
	Logger  *slog.Logger
	// BaseURL is Custodian's public URL ("https://him.example.org"): the
	// issuer of its tokens, whose audience is BaseURL+"/fhir". When empty
	// it is taken from each request (https if it came over TLS, and the
	// Host header), so a token is good only at the name it was issued for.
	BaseURL string
	// SecureCookies marks cookies Secure even on plain HTTP, for a server
	// behind a proxy that terminates TLS. Over TLS they always are.
	SecureCookies bool
	// Home is where sign-in leads when no page was asked for ("/" if empty).
	Home string
	// External, when set, also accepts bearer tokens from the site's own
	// OpenID Connect provider (see OIDC).
	External *OIDC
}

// Wrap returns the whole HTTP surface: the public routes (token endpoint,
// key set, SMART configuration, sign-in page, the FHIR CapabilityStatement
// and /static/ assets) and, for everything else, next behind Authenticate.
func (h *Handler) Wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", h.token)
	mux.HandleFunc("GET /oauth/jwks", h.jwks)
	mux.HandleFunc("GET /.well-known/jwks.json", h.jwks)
	mux.HandleFunc("GET /fhir/.well-known/smart-configuration", h.smartConfiguration)
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	// The CapabilityStatement is public, as FHIR and SMART expect, so
	// clients can discover the server and its token endpoint.
	mux.Handle("GET /fhir/metadata", next)
	mux.Handle("GET /static/", next)
	auth := http.NewServeMux()
	auth.HandleFunc("POST /logout", h.logout)
	auth.HandleFunc("GET /password", h.passwordForm)
	auth.HandleFunc("POST /password", h.changePassword)
	auth.HandleFunc("GET /account", h.account)
	auth.Handle("/", next)
	mux.Handle("/", h.Authenticate(auth))
	return mux
}

type sessionKey struct{}

// Authenticate lets a request through to next only with an actor: from a
// valid bearer token, or from a valid session cookie (then state-changing
// methods must carry the CSRF token). Without one it answers 401 with
// WWW-Authenticate: Bearer — an OperationOutcome under /fhir — or, for a
// page, sends the browser to /login.
func (h *Handler) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		addr := remoteHost(r)
		var actor *custodian.Actor
		var sess *access.SessionState
		if authz := r.Header.Get("Authorization"); authz != "" {
			scheme, tok, _ := strings.Cut(authz, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				h.unauthorized(w, r, "invalid_request")
				return
			}
			a, err := h.Service.VerifyToken(ctx, strings.TrimSpace(tok), h.issuer(r), h.audience(r))
			if custodian.ErrorCode(err) == custodian.EUNAUTHORIZED && h.External != nil {
				a, err = h.External.Verify(ctx, strings.TrimSpace(tok))
			}
			if err != nil {
				if custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
					h.internal(w, r, err)
					return
				}
				h.unauthorized(w, r, "invalid_token")
				return
			}
			actor = a
		} else if c, err := r.Cookie(h.sessionCookie(r)); err == nil && c.Value != "" {
			s, err := h.Service.Session(ctx, c.Value)
			if err != nil {
				if custodian.ErrorCode(err) != custodian.EUNAUTHORIZED {
					h.internal(w, r, err)
					return
				}
				h.clearCookie(w, r, h.sessionCookie(r))
				h.unauthorized(w, r, "")
				return
			}
			sess = s
			actor = &custodian.Actor{ID: s.User, Kind: access.KindUser, Roles: s.Roles}
			if !safeMethod(r.Method) && !s.CheckCSRF(csrfFromRequest(r)) {
				h.forbidden(w, r, "The form has expired or did not come from Custodian; reload the page and try again.")
				return
			}
			if s.MustChange && r.URL.Path != "/password" && r.URL.Path != "/logout" {
				if isFHIR(r) {
					h.forbidden(w, r, "The password must be changed before anything else; sign in to the workbench or run `custodian user passwd`.")
					return
				}
				http.Redirect(w, r, "/password", http.StatusSeeOther)
				return
			}
		} else {
			h.unauthorized(w, r, "")
			return
		}
		actor.Address = addr
		actor.PurposeOfUse = purposeOfUse(r)
		ctx = custodian.NewContextWithActor(ctx, actor)
		if sess != nil {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// CSRFToken returns the CSRF token of the request's session, for a page to
// put in its forms as the field "csrf_token"; "" when the request was not
// authenticated by a session.
func CSRFToken(r *http.Request) string {
	if s, ok := r.Context().Value(sessionKey{}).(*access.SessionState); ok {
		return s.CSRF
	}
	return ""
}

// CSRFField returns a hidden form input carrying CSRFToken(r).
func CSRFField(r *http.Request) template.HTML {
	return template.HTML(`<input type="hidden" name="` + CSRFFormField + `" value="` + template.HTMLEscapeString(CSRFToken(r)) + `">`)
}

// csrfFromRequest reads the CSRF token from the header or, for form posts,
// the form (which the handler can still read: the parsed form is kept).
func csrfFromRequest(r *http.Request) string {
	if t := r.Header.Get(CSRFHeader); t != "" {
		return t
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		return r.PostFormValue(CSRFFormField)
	}
	return ""
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isFHIR(r *http.Request) bool {
	return r.URL.Path == "/fhir" || strings.HasPrefix(r.URL.Path, "/fhir/")
}

var purposeRE = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)

// purposeOfUse returns the X-Purpose-Of-Use header if it looks like a code
// (e.g. TREAT, HOPERAT, ETREAT); anything else is ignored.
func purposeOfUse(r *http.Request) string {
	p := strings.TrimSpace(r.Header.Get(PurposeOfUseHeader))
	if purposeRE.MatchString(p) {
		return p
	}
	return ""
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) secure(r *http.Request) bool { return h.SecureCookies || r.TLS != nil }

// sessionCookie is the session cookie's name; with Secure it takes the
// __Host- prefix, which browsers only accept from HTTPS, for path /,
// without a Domain, so no other host or path can plant or shadow it.
func (h *Handler) sessionCookie(r *http.Request) string {
	if h.secure(r) {
		return "__Host-custodian_session"
	}
	return "custodian_session"
}

func (h *Handler) loginCookie(r *http.Request) string {
	if h.secure(r) {
		return "__Host-custodian_login"
	}
	return "custodian_login"
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: h.secure(r), HttpOnly: true, SameSite: sameSite,
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	h.setCookie(w, r, name, "", -1, http.SameSiteLaxMode)
}

func (h *Handler) issuer(r *http.Request) string {
	if h.BaseURL != "" {
		return strings.TrimRight(h.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (h *Handler) audience(r *http.Request) string { return h.issuer(r) + "/fhir" }

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// unauthorized answers a request without a usable credential. errCode is
// the RFC 6750 error for a bad token ("" when none was sent).
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, errCode string) {
	challenge := `Bearer realm="custodian"`
	if errCode != "" {
		challenge += `, error="` + errCode + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	switch {
	case isFHIR(r):
		writeOutcome(w, http.StatusUnauthorized, "login", "Authentication is required: a valid bearer token or a signed-in session.")
	case errCode == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Del("WWW-Authenticate")
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	default:
		http.Error(w, "Authentication is required.", http.StatusUnauthorized)
	}
}

func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	if isFHIR(r) {
		writeOutcome(w, http.StatusForbidden, "forbidden", msg)
		return
	}
	http.Error(w, msg, http.StatusForbidden)
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().Error("authentication", "method", r.Method, "err", err)
	if isFHIR(r) {
		writeOutcome(w, http.StatusInternalServerError, "exception", "Internal error.")
		return
	}
	http.Error(w, "Internal error.", http.StatusInternalServerError)
}

// writeOutcome writes a FHIR OperationOutcome with one error issue.
func writeOutcome(w http.ResponseWriter, status int, code, msg string) {
	type issue struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
	}
	body, _ := json.Marshal(struct {
		ResourceType string  `json:"resourceType"`
		Issue        []issue `json:"issue"`
	}{"OperationOutcome", []issue{{"error", code, msg}}})
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}
