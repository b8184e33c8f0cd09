package httpauth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/access"
)

//go:embed template/*.html
var templateFiles embed.FS

var pages = template.Must(template.ParseFS(templateFiles, "template/*.html"))

// page is what the templates are given.
type page struct {
	Title, Error, Notice string
	CSRF                 string
	Next                 string
	Username             string
	Roles                []string
	MustChange           bool
	MinLength            int
}

// render writes a page with the headers every HTML page here needs: no
// caching, no framing, no scripts, forms only to this origin.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		h.internal(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// loginForm shows the sign-in form. The form carries a fresh anti-forgery
// token that must match a cookie set here (double submit), so another site
// cannot sign a browser in under its own account.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	p := &page{Next: safeNext(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("changed") == "1" {
		p.Notice = "Your password was changed. Sign in with the new one."
	}
	h.showLogin(w, r, http.StatusOK, p)
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, p *page) {
	p.Title = "Sign in"
	p.CSRF = newToken()
	h.setCookie(w, r, h.loginCookie(r), p.CSRF, 3600, http.SameSiteStrictMode)
	h.render(w, r, status, "login", p)
}

// login checks the form and starts a session under a new id.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	p := &page{Next: safeNext(r.PostForm.Get("next")), Username: r.PostForm.Get("username")}
	c, err := r.Cookie(h.loginCookie(r))
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get(CSRFFormField))) != 1 {
		p.Error = "The sign-in form expired. Please try again."
		h.showLogin(w, r, http.StatusForbidden, p)
		return
	}
	in, err := h.Service.SignIn(r.Context(), p.Username, r.PostForm.Get("password"), remoteHost(r))
	switch {
	case errors.Is(err, access.ErrThrottled):
		p.Error = access.ErrThrottled.Message
		h.showLogin(w, r, http.StatusTooManyRequests, p)
		return
	case custodian.ErrorCode(err) == custodian.EUNAUTHORIZED:
		p.Error = access.ErrBadCredentials.Message
		h.showLogin(w, r, http.StatusUnauthorized, p)
		return
	case err != nil:
		h.internal(w, r, err)
		return
	}
	// Whatever session the browser had before is ended, not reused.
	if old, err := r.Cookie(h.sessionCookie(r)); err == nil && old.Value != "" {
		if err := h.Service.SignOut(r.Context(), old.Value); err != nil {
			h.logger().Warn("ending the previous session at sign-in", "err", err)
		}
	}
	h.clearCookie(w, r, h.loginCookie(r))
	h.setCookie(w, r, h.sessionCookie(r), in.SessionID, int(h.Service.SessionAbsolute.Seconds()), http.SameSiteLaxMode)
	dest := p.Next
	if in.MustChange {
		dest = "/password"
	} else if dest == "" {
		dest = h.home()
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// logout ends the session (the middleware has checked it and its CSRF token).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.sessionCookie(r)); err == nil {
		if err := h.Service.SignOut(r.Context(), c.Value); err != nil {
			h.internal(w, r, err)
			return
		}
	}
	h.clearCookie(w, r, h.sessionCookie(r))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (h *Handler) passwordPage(r *http.Request) *page {
	st, _ := r.Context().Value(sessionKey{}).(*access.SessionState)
	p := &page{Title: "Change password", CSRF: CSRFToken(r), MinLength: access.MinPasswordLength}
	if st != nil {
		p.Username, p.MustChange = st.User, st.MustChange
	}
	return p
}

// passwordForm shows the change-password form to a signed-in user.
func (h *Handler) passwordForm(w http.ResponseWriter, r *http.Request) {
	if CSRFToken(r) == "" {
		h.forbidden(w, r, "Only a signed-in user can change their password here.")
		return
	}
	h.render(w, r, http.StatusOK, "password", h.passwordPage(r))
}

// changePassword replaces the user's password; every session of theirs
// ends, and they sign in again with the new one.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	st, _ := r.Context().Value(sessionKey{}).(*access.SessionState)
	if st == nil {
		h.forbidden(w, r, "Only a signed-in user can change their password here.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	p := h.passwordPage(r)
	next := r.PostForm.Get("new")
	if next != r.PostForm.Get("confirm") {
		p.Error = "The new password and its confirmation differ."
		h.render(w, r, http.StatusBadRequest, "password", p)
		return
	}
	err := h.Service.ChangePassword(r.Context(), st.User, r.PostForm.Get("current"), next)
	switch code := custodian.ErrorCode(err); code {
	case "":
	case custodian.EUNAUTHORIZED, custodian.EINVALID:
		p.Error = custodian.ErrorMessage(err)
		status := http.StatusBadRequest
		if code == custodian.EUNAUTHORIZED {
			status = http.StatusUnauthorized
		}
		h.render(w, r, status, "password", p)
		return
	default:
		h.internal(w, r, err)
		return
	}
	h.clearCookie(w, r, h.sessionCookie(r))
	http.Redirect(w, r, "/login?changed=1", http.StatusSeeOther)
}

// account shows who is signed in, with the way out.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	st, _ := r.Context().Value(sessionKey{}).(*access.SessionState)
	if st == nil {
		h.forbidden(w, r, "This page is for signed-in users.")
		return
	}
	h.render(w, r, http.StatusOK, "account", &page{Title: "Your account", CSRF: st.CSRF, Username: st.User, Roles: st.Roles})
}

func (h *Handler) home() string {
	if h.Home == "" {
		return "/"
	}
	return h.Home
}

// safeNext returns next if it is a path on this site, else "": never
// another origin ("//evil", "/\evil", "https://…"), so sign-in cannot be
// used to send someone elsewhere.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "/login") {
		return ""
	}
	return next
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
