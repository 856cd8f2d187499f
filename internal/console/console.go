// Package console is the client side of a host's console API (HTTPS on the Control and
// Observe ports, under /api/v1): what `buktu chat`, `buktu notify`, `buktu approve` and the
// like use. It logs in with an account and password, trusts the host's self-signed
// certificate by a fingerprint pinned on first use, keeps the session cookie and CSRF token,
// and turns the API's JSON into Go values. Flags, prompts and printing are left to cli; the
// server side is package web.
package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/buktu/buktu/internal/identity"
)

// Options say how to reach, trust and log in to a host's console.
type Options struct {
	Account  string
	Password string
	// KnownHosts is the file of pinned certificate fingerprints, one "host:port sha256/…"
	// line each (the CLI's known_hosts-tls). Empty means pins are not kept beyond the Client;
	// then Accept is required.
	KnownHosts string
	// Accept decides about a certificate met for the first time, given its fingerprint (as
	// `buktu id` prints it on the host). Nil trusts it and pins it.
	Accept func(fingerprint string) bool
	// Logger hears of pinned certificates and of requests (Debug); nil means discard.
	Logger *slog.Logger
}

// LogValue shows the options without the password.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account", o.Account), slog.String("password", "REDACTED"),
		slog.String("known_hosts", o.KnownHosts))
}

// Client is a logged-in console session. It is safe for concurrent use: a long poll of
// Events may run while other calls are made.
type Client struct {
	// What the host said at login.
	Account    string
	Service    string            // "control" or "observe": what the port allows
	Privileges map[string]string // privilege to "allow", "ask" or "deny"

	base string // "https://host:port"
	csrf string
	http *http.Client
	log  *slog.Logger
}

// Limits on what is read from the host.
const (
	dialTimeout = 30 * time.Second
	maxBody     = 32 << 20 // a full transcript is at most about 5 MiB
	maxErrText  = 500
)

// Error is a request the host refused, with the host's words for why.
type Error struct {
	Status     int           // the HTTP status
	Text       string        // the host's "error" text (control characters removed), or the status text
	RetryAfter time.Duration // when throttled (429): how long to wait; 0 when the host did not say
}

func (e *Error) Error() string {
	if e.RetryAfter > 0 && !strings.Contains(e.Text, "try again") {
		return fmt.Sprintf("%s (try again in %v)", e.Text, e.RetryAfter)
	}
	return e.Text
}

// Dial connects to the console at addr ("host:port") and logs in. It fails with a *identity.CertError
// when the host's certificate is not trusted, and an *Error when the host refuses the login.
func Dial(ctx context.Context, addr string, o Options) (*Client, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("console address: %w", err)
	}
	if o.KnownHosts == "" && o.Accept == nil {
		return nil, errors.New("no known hosts file and no Accept: the host's certificate cannot be checked")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pins := &identity.Pinner{Addr: addr, File: o.KnownHosts, Accept: o.Accept, Logger: log}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("make cookie jar: %w", err)
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		TLSClientConfig:     pins.Config(),
		TLSHandshakeTimeout: dialTimeout,
		ForceAttemptHTTP2:   true,
		IdleConnTimeout:     90 * time.Second,
	}
	c := &Client{
		base: "https://" + addr,
		http: &http.Client{
			Transport: tr,
			Jar:       jar,
			// The API never redirects; following one would carry the CSRF token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log: log.With("addr", addr),
	}
	var s struct {
		Account    string            `json:"account"`
		Service    string            `json:"service"`
		Privileges map[string]string `json:"privileges"`
		CSRF       string            `json:"csrf"`
	}
	login := map[string]string{"account": o.Account, "password": o.Password}
	if err := c.do(ctx, http.MethodPost, "/api/v1/login", login, &s); err != nil {
		tr.CloseIdleConnections()
		if _, ok := errors.AsType[*identity.CertError](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("log in to %s as %s: %w", addr, o.Account, err)
	}
	if s.CSRF == "" {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("log in to %s: the host gave no CSRF token", addr)
	}
	c.Account, c.Service, c.Privileges, c.csrf = s.Account, s.Service, s.Privileges, s.CSRF
	return c, nil
}

// Logout ends the session on the host and closes the client's connections.
func (c *Client) Logout(ctx context.Context) error {
	defer c.http.CloseIdleConnections()
	if err := c.do(ctx, http.MethodPost, "/api/v1/logout", nil, nil); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// do sends a request with in as its JSON body (nil: none) and decodes a successful answer's
// JSON body into out (nil: ignored). A refusal is an *Error; a certificate that is not trusted
// a *identity.CertError.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("make request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if method != http.MethodGet && c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	c.log.Debug("console request", "method", method, "path", path)
	resp, err := c.http.Do(req)
	if err != nil {
		if ce, ok := errors.AsType[*identity.CertError](err); ok {
			return ce
		}
		if ue, ok := errors.AsType[*url.Error](err); ok {
			// Without the URL, which only repeats what the caller knows.
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return fmt.Errorf("read answer to %s %s: %w", method, path, err)
	}
	return nil
}

// readError turns a refusal into an *Error.
func readError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil {
		e.Text = clean(body.Error)
	}
	if e.Text == "" {
		e.Text = strings.ToLower(http.StatusText(resp.StatusCode))
		if e.Text == "" {
			e.Text = "status " + strconv.Itoa(resp.StatusCode)
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// clean makes the host's text safe to print on a terminal: control characters (which could
// rewrite the screen) become spaces, and it is cut to a readable length.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > maxErrText {
		s = strings.ToValidUTF8(s[:maxErrText], "") + "…"
	}
	return strings.TrimSpace(s)
}
