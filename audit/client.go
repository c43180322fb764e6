package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tracebatch/tracebatch/internal/endpoint"
	"github.com/tracebatch/tracebatch/internal/retry"
)

// Config says how to reach Secure Audit Log and how patiently.
type Config struct {
	// Domain is the Pangea domain (aws.us.pangea.cloud: the service is at
	// https://audit.<domain>/) or a full base URL such as
	// http://127.0.0.1:8080 for a proxy or a local fake.
	Domain string
	// Token is the Secure Audit Log API token. It is sent only in the
	// Authorization header and never appears in errors.
	Token string
	// ConfigID selects the audit config of a multi-config project.
	ConfigID string
	// Insecure allows plaintext http:// to a host that is not loopback.
	Insecure bool
	// Concurrency is how many calls may be in flight at once; the
	// connection pool is sized to it so connections are reused.
	Concurrency int
	// Retries bounds the retries of a call that failed with 429, 5xx, a
	// network error or an unreadable answer.
	Retries int
	// Backoff is the first retry's wait (doubling, with jitter, up to
	// MaxBackoff).
	Backoff, MaxBackoff time.Duration
	// Timeout bounds one HTTP exchange.
	Timeout time.Duration
	// PollTimeout bounds how long a 202 is followed before giving up.
	PollTimeout time.Duration
	// Verbose asks Pangea for envelopes and proofs with every receipt.
	Verbose bool
	// Signer, when set, signs every event (see LoadSigner).
	Signer *Signer
	// Transport replaces the pooled transport (tests).
	Transport http.RoundTripper
}

// Client talks to Secure Audit Log. It is safe for concurrent use: each call
// follows its own 202 and retries on its own; all calls share one pool of
// kept-alive connections, sized to Config.Concurrency.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client

	// roots are the unpublished roots seen lately (proof checking).
	roots roots
}

// NewClient checks the configuration and builds a client. Unlike the v4 SDK's
// default client, it keeps connections alive and writes no log file.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("audit: no token")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 20 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 2 * time.Minute
	}
	raw := cfg.Domain
	if !strings.Contains(raw, "://") {
		if raw == "" || strings.ContainsAny(raw, "/?#@") {
			return nil, fmt.Errorf("--pangea-domain: %q is neither a domain such as aws.us.pangea.cloud nor a URL", raw)
		}
		raw = "https://audit." + raw
	}
	base, err := endpoint.Parse("--pangea-domain", raw, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	rt := cfg.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Room for every call in flight plus a schema read or a poll, all
		// kept alive: the v4 SDK's default client opens a connection per
		// call instead.
		t.MaxIdleConnsPerHost = cfg.Concurrency + 1
		t.MaxConnsPerHost = cfg.Concurrency + 1
		t.ResponseHeaderTimeout = cfg.Timeout
		rt = t
	}
	return &Client{cfg: cfg, base: base, http: &http.Client{Transport: rt, CheckRedirect: endpoint.NoRedirects}}, nil
}

// redact removes the token from text a server or proxy sent back.
func (c *Client) redact(s string) string {
	return strings.ReplaceAll(s, c.cfg.Token, "[redacted]")
}

// URL is the service's base URL, for messages.
func (c *Client) URL() string { return c.base.String() }

// response is Pangea's envelope around every result.
type response struct {
	RequestID string          `json:"request_id"`
	Status    string          `json:"status"`
	Summary   string          `json:"summary"`
	Result    json.RawMessage `json:"result"`
}

// APIError is an answer from Pangea that is not a success. Its message
// carries Pangea's status, summary and request ID, never the token.
type APIError struct {
	// HTTPStatus is the HTTP status code.
	HTTPStatus int
	// Status and Summary are Pangea's words for it.
	Status, Summary string
	// RequestID identifies the call for Pangea support.
	RequestID string
	// Fields lists the validation errors of a 400.
	Fields []FieldError
}

// FieldError is one validation error: Source is a JSON pointer into the
// request, such as /events/3/event/event_input.
type FieldError struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Source string `json:"source"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pangea answered %d", e.HTTPStatus)
	if e.Status != "" {
		fmt.Fprintf(&b, " %s", e.Status)
	}
	if e.Summary != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimSuffix(e.Summary, "."))
	}
	for i, f := range e.Fields {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Fields)-3)
			break
		}
		fmt.Fprintf(&b, "; %s %s: %s", f.Source, f.Code, f.Detail)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request_id %s)", e.RequestID)
	}
	switch e.HTTPStatus {
	case http.StatusUnauthorized:
		b.WriteString("; check the token (--audit-token or PANGEA_AUDIT_TOKEN)")
	case http.StatusForbidden:
		b.WriteString("; the token lacks permission for this service or config (--audit-config-id)")
	}
	return b.String()
}

// Fatal reports whether the error will not go away by itself: the token or
// config is wrong, so no further call can succeed.
func (e *APIError) Fatal() bool {
	if e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == http.StatusForbidden {
		return true
	}
	for _, f := range e.Fields {
		switch f.Code {
		case "ConfigNotExist", "ConfigProjectMismatch", "ConfigServiceMismatch":
			return true
		}
	}
	return false
}

// retryable reports whether status is worth trying again.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

// errUnreadable marks a 2xx answer whose body could not be read or decoded.
var errUnreadable = errors.New("unreadable answer")

// call sends one request and, if follow is set, follows a 202 to its end.
// It retries 429, 5xx, network errors and unreadable answers (with
// backoff, honouring Retry-After) up to Config.Retries times; every other
// failure is returned as is.
func (c *Client) call(ctx context.Context, method, path string, body []byte, follow bool) (*response, error) {
	policy := retry.Policy{Retries: c.cfg.Retries, Base: c.cfg.Backoff, Max: c.cfg.MaxBackoff}
	for attempt := 1; ; attempt++ {
		res, wait, err := c.exchange(ctx, method, path, body)
		var api *APIError
		switch {
		case err == nil:
			if res.Status == "Accepted" && follow {
				return c.poll(ctx, res.RequestID)
			}
			return res, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &api) && !retryable(api.HTTPStatus):
			return nil, err
		case attempt > policy.Retries:
			if attempt > 1 {
				err = fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return nil, err
		}
		if err := retry.Sleep(ctx, policy.Delay(attempt, wait)); err != nil {
			return nil, err
		}
	}
}

// exchange performs one HTTP request. On failure it also returns how long
// the server asked to wait.
func (c *Client) exchange(ctx context.Context, method, path string, body []byte) (*response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.base.ResolveReference(&url.URL{Path: path})
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("User-Agent", "tracebatch")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, scrub(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %d answer cut short: %w: %w", method, path, resp.StatusCode, errUnreadable, scrub(err))
	}
	var r response
	decodeErr := json.Unmarshal(data, &r)
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusAccepted {
		if decodeErr != nil || r.Status == "" {
			return nil, 0, fmt.Errorf("%s %s: %d answer is not a Pangea response (%s): %w", method, path, resp.StatusCode, c.redact(brief(data)), errUnreadable)
		}
		if resp.StatusCode == http.StatusAccepted {
			r.Status = "Accepted"
		}
		return &r, 0, nil
	}
	api := &APIError{HTTPStatus: resp.StatusCode, Status: c.redact(r.Status), Summary: c.redact(r.Summary), RequestID: c.redact(r.RequestID)}
	if decodeErr != nil {
		api.Summary = c.redact(brief(data))
	} else if resp.StatusCode == http.StatusBadRequest {
		var v struct {
			Errors []FieldError `json:"errors"`
		}
		if json.Unmarshal(r.Result, &v) == nil {
			for i := range v.Errors {
				v.Errors[i].Detail = c.redact(v.Errors[i].Detail)
			}
			api.Fields = v.Errors
		}
	}
	return nil, retry.After(resp.Header, time.Now()), api
}

// poll follows an accepted request until Pangea has its result. Each caller
// polls for its own request ID, so concurrent 202s are independent (the v4
// SDK keeps them in one unguarded map).
func (c *Client) poll(ctx context.Context, requestID string) (*response, error) {
	if requestID == "" {
		return nil, errors.New("the request was accepted without a request_id to follow")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.PollTimeout)
	defer cancel()
	policy := retry.Policy{Base: c.cfg.Backoff, Max: 5 * time.Second}
	for n := 1; ; n++ {
		if err := retry.Sleep(ctx, policy.Delay(n, 0)); err != nil {
			return nil, fmt.Errorf("request %s was accepted but had no result after %v: %w", requestID, c.cfg.PollTimeout, err)
		}
		res, wait, err := c.exchange(ctx, http.MethodGet, "request/"+url.PathEscape(requestID), nil)
		var api *APIError
		switch {
		case err == nil && res.Status == "Accepted":
			continue
		case err == nil:
			return res, nil
		case errors.As(err, &api) && !retryable(api.HTTPStatus):
			return nil, fmt.Errorf("following accepted request %s: %w", requestID, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("request %s was accepted but had no result after %v: %w", requestID, c.cfg.PollTimeout, err)
		}
		if wait > 0 {
			if err := retry.Sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("request %s was accepted but had no result after %v: %w", requestID, c.cfg.PollTimeout, err)
			}
		}
	}
}

// scrub removes the URL from a transport error: it may carry a query or a
// path the user considers private, and it adds nothing the caller lacks.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

// brief quotes the start of an unexpected body.
func brief(data []byte) string {
	const max = 120
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "empty body"
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}
