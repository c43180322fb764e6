package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
)

const testToken = "pts_test_token_never_printed"

func newTestClient(t *testing.T, p *fakeapi.Pangea, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Domain:      p.URL(),
		Token:       testToken,
		Concurrency: 4,
		Retries:     4,
		Backoff:     time.Millisecond,
		MaxBackoff:  20 * time.Millisecond,
		Timeout:     5 * time.Second,
		PollTimeout: 10 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func inputEvents(n int, tag string) []Event {
	evs := make([]Event, n)
	for i := range evs {
		ev, err := Format{}.Input("ctx", fmt.Sprintf("%s prompt %d", tag, i), Meta{})
		if err != nil {
			panic(err)
		}
		evs[i] = ev
	}
	return evs
}

// receivedHashes maps each event the fake accepted (by its input text) to
// the hash the fake issued for it.
func receivedHashes(p *fakeapi.Pangea) map[string][]string {
	m := map[string][]string{}
	for _, e := range p.Events() {
		key, _ := e.Event["event_input"].(string)
		m[key] = append(m[key], e.Hash)
	}
	return m
}

// checkReceipts asserts that every outcome without error carries the hash
// the fake issued for that very event, and returns how many did.
func checkReceipts(t *testing.T, p *fakeapi.Pangea, events []Event, outs []Outcome) int {
	t.Helper()
	got := receivedHashes(p)
	ok := 0
	for i, o := range outs {
		if o.Err != nil {
			continue
		}
		hs := got[events[i].EventInput]
		if len(hs) != 1 || hs[0] != o.Receipt.Hash {
			t.Errorf("event %d: receipt %q, fake issued %v", i, o.Receipt.Hash, hs)
		}
		if !strings.HasPrefix(o.Receipt.RequestID, "prq_") {
			t.Errorf("event %d: request_id %q", i, o.Receipt.RequestID)
		}
		ok++
	}
	return ok
}

func TestLogBulkReceiptsAreTheFakesHashes(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	c := newTestClient(t, p, nil)
	events := inputEvents(2500, "bulk")
	outs := c.LogBulk(context.Background(), events)
	if n := checkReceipts(t, p, events, outs); n != len(events) {
		t.Fatalf("%d of %d events have receipts", n, len(events))
	}
	if m := p.MaxBatch(); m > MaxBatch {
		t.Fatalf("a call carried %d events, over Pangea's %d", m, MaxBatch)
	}
	if got := len(p.Requests()); got != 3 {
		t.Errorf("2500 events took %d calls, want 3", got)
	}
}

func TestLogBulkRetriesThrottlingAndServerErrors(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	params := fakeapi.DefaultFaultParams()
	params.RetryAfter429 = 0
	p.SetFaultParams(params)
	p.SetFaults(fakeapi.OnPaths(fakeapi.Sequence(fakeapi.Status429, fakeapi.Status500, fakeapi.Status503, fakeapi.Drop, fakeapi.Timeout), "/v2/log"))
	c := newTestClient(t, p, func(cfg *Config) { cfg.Timeout = 200 * time.Millisecond; cfg.Retries = 5 })
	events := inputEvents(10, "retry")
	outs := c.LogBulk(context.Background(), events)
	if n := checkReceipts(t, p, events, outs); n != 10 {
		t.Fatalf("%d of 10 events have receipts: %v", n, outs[0].Err)
	}
	if got := len(p.Requests()); got != 6 {
		t.Errorf("made %d calls, want 6 (5 failures, then success)", got)
	}
}

func TestLogBulkHonoursRetryAfter(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	params := fakeapi.DefaultFaultParams()
	params.RetryAfter429 = time.Second
	p.SetFaultParams(params)
	p.SetFaults(fakeapi.OnPaths(fakeapi.FailFirst(1, fakeapi.Status429), "/v2/log"))
	c := newTestClient(t, p, func(cfg *Config) { cfg.MaxBackoff = 5 * time.Second })
	outs := c.LogBulk(context.Background(), inputEvents(1, "wait"))
	if outs[0].Err != nil {
		t.Fatal(outs[0].Err)
	}
	reqs := p.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d calls, want 2", len(reqs))
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 900*time.Millisecond {
		t.Errorf("retried %v after a 429 with Retry-After: 1", gap)
	}
}

func TestLogBulkGivesUpAfterRetries(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetFaults(fakeapi.OnPaths(fakeapi.Always(fakeapi.Status503), "/v2/log"))
	c := newTestClient(t, p, func(cfg *Config) { cfg.Retries = 2 })
	outs := c.LogBulk(context.Background(), inputEvents(3, "down"))
	for _, o := range outs {
		if o.Err == nil || !strings.Contains(o.Err.Error(), "503") || !strings.Contains(o.Err.Error(), "3 attempts") {
			t.Fatalf("got %v, want a 503 after 3 attempts", o.Err)
		}
	}
	if got := len(p.Requests()); got != 3 {
		t.Errorf("%d calls, want 3", got)
	}
}

func TestLogBulkIsolatesRejectedEvent(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetRejector(fakeapi.RejectContaining("event_input", "poison"))
	c := newTestClient(t, p, nil)
	events := inputEvents(20, "iso")
	bad, _ := Format{}.Input("ctx", "a poison prompt", Meta{})
	events[7] = bad
	outs := c.LogBulk(context.Background(), events)
	var rej *RejectedError
	if !errors.As(outs[7].Err, &rej) {
		t.Fatalf("event 7: got %v, want a RejectedError", outs[7].Err)
	}
	if msg := outs[7].Err.Error(); !strings.Contains(msg, "event_input") {
		t.Errorf("rejection does not name the field: %s", msg)
	}
	if n := checkReceipts(t, p, events, outs); n != 19 {
		t.Fatalf("%d of the 19 good events have receipts", n)
	}
	if p.EventCount() != 19 {
		t.Errorf("fake accepted %d events, want 19", p.EventCount())
	}
	for _, r := range p.Requests() {
		if r.Status == http.StatusBadRequest {
			continue
		}
		if r.Events != 19 {
			t.Errorf("resend carried %d events, want the 19 others", r.Events)
		}
	}
}

func TestLogBulkFollows202ConcurrentlyWithoutRace(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetPendingPolls(2)
	p.SetFaults(fakeapi.OnPaths(fakeapi.Always(fakeapi.Accepted202), "/v2/log"))
	c := newTestClient(t, p, nil)
	var wg sync.WaitGroup
	results := make([][]Outcome, 8)
	events := make([][]Event, 8)
	for g := range 8 {
		events[g] = inputEvents(5, fmt.Sprintf("g%d", g))
		wg.Go(func() { results[g] = c.LogBulk(context.Background(), events[g]) })
	}
	wg.Wait()
	for g := range 8 {
		if n := checkReceipts(t, p, events[g], results[g]); n != 5 {
			t.Fatalf("caller %d: %d of 5 receipts; first error %v", g, n, results[g][0].Err)
		}
	}
}

func TestLogBulkNeverInventsReceipts(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetFaults(fakeapi.OnPaths(fakeapi.Always(fakeapi.ShortResults), "/v2/log"))
	c := newTestClient(t, p, nil)
	events := inputEvents(10, "short")
	outs := c.LogBulk(context.Background(), events)
	withReceipt := checkReceipts(t, p, events, outs)
	if withReceipt != p.EventCount() || withReceipt >= 10 {
		t.Fatalf("%d receipts for %d accepted events of 10", withReceipt, p.EventCount())
	}
	for i, o := range outs[withReceipt:] {
		if !errors.Is(o.Err, ErrNoReceipt) {
			t.Errorf("event %d: got %v, want ErrNoReceipt", withReceipt+i, o.Err)
		}
	}
}

func TestLogBulkRetriesUnreadableAnswer(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetFaults(fakeapi.OnPaths(fakeapi.FailFirst(1, fakeapi.Malformed), "/v2/log"))
	c := newTestClient(t, p, nil)
	events := inputEvents(3, "garbled")
	outs := c.LogBulk(context.Background(), events)
	for i, o := range outs {
		if o.Err != nil {
			t.Fatalf("event %d: %v", i, o.Err)
		}
	}
	// The garbled answer's events were accepted too: at least once, as
	// documented.
	if p.EventCount() != 6 {
		t.Errorf("fake accepted %d events; want 6 (the lost answer's 3, and the retry's)", p.EventCount())
	}
}

func TestBadTokenIsFatalAndNotRepeated(t *testing.T) {
	p := fakeapi.StartPangea(t, "pts_other_token")
	c := newTestClient(t, p, nil)
	outs := c.LogBulk(context.Background(), inputEvents(2, "auth"))
	var api *APIError
	if !errors.As(outs[0].Err, &api) || !api.Fatal() || api.HTTPStatus != 401 {
		t.Fatalf("got %v, want a fatal 401", outs[0].Err)
	}
	msg := outs[0].Err.Error()
	if strings.Contains(msg, testToken) {
		t.Fatalf("error repeats the token: %s", msg)
	}
	if !strings.Contains(msg, "PANGEA_AUDIT_TOKEN") {
		t.Errorf("error does not say what to do: %s", msg)
	}
	if got := len(p.Requests()); got != 1 {
		t.Errorf("a 401 was retried: %d calls", got)
	}
}

func TestConnectionsAreReused(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	p.SetLatency(2*time.Millisecond, time.Millisecond)
	const concurrency = 4
	c := newTestClient(t, p, func(cfg *Config) { cfg.Concurrency = concurrency })
	var wg sync.WaitGroup
	for g := range concurrency {
		wg.Go(func() {
			for i := range 25 {
				c.LogBulk(context.Background(), inputEvents(3, fmt.Sprintf("c%d-%d", g, i)))
			}
		})
	}
	wg.Wait()
	st := p.Stats()
	if st.Requests != 100 {
		t.Fatalf("%d requests, want 100", st.Requests)
	}
	if st.ConnsOpened > concurrency+2 {
		t.Fatalf("opened %d connections for %d calls at concurrency %d", st.ConnsOpened, st.Requests, concurrency)
	}
}

func TestVerboseReceiptsVerify(t *testing.T) {
	p := fakeapi.StartPangea(t, testToken)
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, p, func(cfg *Config) { cfg.Verbose = true; cfg.Signer = NewSigner(key) })
	for round := range 3 {
		events := inputEvents(7, fmt.Sprintf("proof%d", round))
		outs := c.LogBulk(context.Background(), events)
		checkReceipts(t, p, events, outs)
		for i, o := range outs {
			pr := o.Receipt.Proof
			if pr == nil {
				t.Fatalf("round %d event %d: no proof", round, i)
			}
			want := Proof{Hash: Verified, Event: Verified, Signature: Verified, Membership: Verified, Consistency: Verified, Root: pr.Root}
			if round == 0 && i == 0 {
				// The first event of a fresh log has nothing to be
				// consistent with, and a tree of one leaf no path.
				want.Consistency, want.Membership = pr.Consistency, pr.Membership
			}
			if *pr != want {
				t.Errorf("round %d event %d: %+v", round, i, *pr)
			}
		}
	}
	for _, e := range p.Events() {
		if e.Signature == "" || !strings.Contains(e.PublicKey, "ED25519") {
			t.Fatalf("event sent unsigned: %+v", e)
		}
	}
}

func TestPlaintextRefusedForRemoteHosts(t *testing.T) {
	_, err := NewClient(Config{Domain: "http://audit.example.com", Token: testToken})
	if err == nil || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("got %v, want a refusal that mentions --insecure", err)
	}
	c, err := NewClient(Config{Domain: "aws.us.pangea.cloud", Token: testToken})
	if err != nil || c.URL() != "https://audit.aws.us.pangea.cloud/" {
		t.Fatalf("domain: %v %v", c, err)
	}
}

// TestRedirectsAreNotFollowed: a redirect could carry the token and the
// events to a host or scheme the user did not choose.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var followed atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/v2/log", http.StatusPermanentRedirect))
	defer redirect.Close()
	c, err := NewClient(Config{Domain: redirect.URL, Token: testToken, Retries: 1, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	outs := c.LogBulk(context.Background(), inputEvents(1, "redirect"))
	if outs[0].Err == nil || !strings.Contains(outs[0].Err.Error(), "308") || followed.Load() != 0 {
		t.Fatalf("got %v; the redirect's target saw %d requests", outs[0].Err, followed.Load())
	}
}

// TestErrorsNeverRepeatTheToken: a proxy that echoes the request in its
// error page must not put the token in the report.
func TestErrorsNeverRepeatTheToken(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "bad gateway; your request had Authorization: %s", r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	c, err := NewClient(Config{Domain: echo.URL, Token: testToken, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	outs := c.LogBulk(context.Background(), inputEvents(1, "echo"))
	if outs[0].Err == nil || strings.Contains(outs[0].Err.Error(), testToken) || !strings.Contains(outs[0].Err.Error(), "[redacted]") {
		t.Fatalf("error: %v", outs[0].Err)
	}
}
