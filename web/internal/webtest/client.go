package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Client is a browser-like HTTP client of a workbench server, signed in
// through the sign-in form. It keeps its cookies and does not follow
// redirects, so tests see them.
type Client struct {
	Base string
	HTTP *http.Client
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// SignIn signs user in at the server at base with password.
func SignIn(t *testing.T, base, user, password string) *Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &Client{Base: base, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := c.Get(t, "/login")
	resp, _ := c.Post(t, "/login", url.Values{"username": {user}, "password": {password}, "csrf_token": {CSRF(t, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d", user, resp.StatusCode)
	}
	return c
}

// Get gets path and returns the response with its body read.
func (c *Client) Get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.HTTP.Get(c.Base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Post posts form to path as a browser's form would.
func (c *Client) Post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.HTTP.Post(c.Base+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// CSRF returns the CSRF token of the first form in a page.
func CSRF(t *testing.T, body string) string {
	t.Helper()
	m := FindCSRF(body)
	if m == "" {
		t.Fatal("no CSRF token in the page")
	}
	return m
}

// FindCSRF returns the CSRF token in a page, "" if there is none.
func FindCSRF(body string) string {
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}
