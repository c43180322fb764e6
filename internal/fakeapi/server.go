package fakeapi

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the machinery the two fakes share: serving, latency, fault
// injection, retention and traffic statistics. Pangea and OpenAI embed it.
//
// A fake serves either through Start (an httptest server on a loopback
// port, with URL and Close) or mounted on any http.Server through Handler
// and ConnState. All methods are safe for concurrent use.
type Server struct {
	routes http.Handler

	latencyFixed  atomic.Int64
	latencyJitter atomic.Int64
	policy        atomic.Pointer[FaultPolicy]
	params        atomic.Pointer[FaultParams]
	retention     atomic.Int32
	seq           atomic.Int64

	requests    atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	connsOpened atomic.Int64
	connsOpen   atomic.Int64

	closing   chan struct{}
	closeOnce sync.Once

	mu sync.Mutex // guards ts
	ts *httptest.Server
}

// newServer returns a Server that serves routes.
func newServer(routes http.Handler) *Server {
	s := &Server{routes: routes, closing: make(chan struct{})}
	params := DefaultFaultParams()
	s.params.Store(&params)
	return s
}

// Stats are traffic counters of a fake.
type Stats struct {
	// Requests is the number of HTTP requests received, of any kind.
	Requests int64
	// InFlight is the number of requests being handled now.
	InFlight int64
	// MaxInFlight is the largest number of requests handled at once.
	MaxInFlight int64
	// ConnsOpened is the number of TCP connections accepted.
	ConnsOpened int64
	// ConnsOpen is the number of connections open now (hijacked
	// connections count as closed).
	ConnsOpen int64
}

// Stats returns a snapshot of the traffic counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:    s.requests.Load(),
		InFlight:    s.inFlight.Load(),
		MaxInFlight: s.maxInFlight.Load(),
		ConnsOpened: s.connsOpened.Load(),
		ConnsOpen:   s.connsOpen.Load(),
	}
}

// ResetMaxInFlight sets MaxInFlight to the number of requests in flight now,
// so that a test phase measures its own peak.
func (s *Server) ResetMaxInFlight() {
	s.maxInFlight.Store(s.inFlight.Load())
}

// Handler returns the fake's HTTP handler, to mount on any http.Server.
// Connection counts need the server's ConnState hook set to s.ConnState.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// ConnState counts connections; set it as the http.Server's ConnState hook
// when mounting Handler on your own server (Start does it for you).
func (s *Server) ConnState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.connsOpened.Add(1)
		s.connsOpen.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.connsOpen.Add(-1)
	}
}

// Start serves the fake on a new loopback port (an httptest server). It
// panics if the fake was started before or closed.
func (s *Server) Start() {
	s.StartOn(nil)
}

// StartOn serves the fake on l, or on a new loopback port when l is nil,
// with the httptest machinery: URL, Client and Close work as after Start.
// Use it to serve a fake on a fixed port from a standalone binary. It panics
// if the fake was started before or closed.
func (s *Server) StartOn(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts != nil {
		panic("fakeapi: server already started")
	}
	select {
	case <-s.closing:
		panic("fakeapi: server is closed")
	default:
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	if l != nil {
		ts.Listener.Close()
		ts.Listener = l
	}
	ts.Config.ConnState = s.ConnState
	ts.Start()
	s.ts = ts
}

// URL returns the base URL of a started fake, such as
// "http://127.0.0.1:41234", or "" if it was not started.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Client returns an HTTP client for a started fake (the httptest server's
// client: keep-alive on, closed with the fake), or nil if it was not
// started.
func (s *Server) Client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return nil
	}
	return s.ts.Client()
}

// CloseClientConnections closes every connection of a started fake, idle or
// not, as a network failure would; the fake keeps serving new ones.
func (s *Server) CloseClientConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts != nil {
		s.ts.CloseClientConnections()
	}
}

// Close releases every handler that waits (latency, Slow, Timeout) and, if
// the fake was started, shuts its server down and waits for its handlers to
// return. Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// SetLatency makes every request wait fixed plus a uniformly random duration
// in [0, jitter) before it is handled. It may be changed at any time; it
// applies to requests that arrive afterwards.
func (s *Server) SetLatency(fixed, jitter time.Duration) {
	s.latencyFixed.Store(int64(fixed))
	s.latencyJitter.Store(int64(jitter))
}

// SetFaults installs the fault policy; nil answers every call normally.
func (s *Server) SetFaults(policy FaultPolicy) {
	if policy == nil {
		s.policy.Store(nil)
		return
	}
	s.policy.Store(&policy)
}

// SetFaultParams replaces the parameters of the faults.
func (s *Server) SetFaultParams(params FaultParams) {
	s.params.Store(&params)
}

// Retention says how much a fake keeps of what it receives.
type Retention int32

const (
	// RetainAll keeps every request, event and chat it receives (the
	// default).
	RetainAll Retention = iota
	// RetainCounts keeps only counters (and Pangea's Merkle tree), for
	// benchmarks that push millions of events or prompts through a fake.
	RetainCounts
)

// SetRetention sets how much the fake keeps of what it receives from now on.
func (s *Server) SetRetention(r Retention) {
	s.retention.Store(int32(r))
}

// keepAll reports whether the fake keeps everything it receives.
func (s *Server) keepAll() bool {
	return Retention(s.retention.Load()) == RetainAll
}

// faultParams returns the current fault parameters.
func (s *Server) faultParams() FaultParams {
	return *s.params.Load()
}

// decide asks the fault policy about c.
func (s *Server) decide(c Call) Fault {
	p := s.policy.Load()
	if p == nil {
		return NoFault
	}
	c.Seq = s.seq.Add(1)
	return (*p)(c)
}

// serveHTTP counts the request, applies latency and hands it to the routes.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		peak := s.maxInFlight.Load()
		if n <= peak || s.maxInFlight.CompareAndSwap(peak, n) {
			break
		}
	}
	if !s.sleep(r.Context(), s.latency()) {
		return
	}
	s.routes.ServeHTTP(w, r)
}

// latency draws the delay of one request.
func (s *Server) latency() time.Duration {
	d := time.Duration(s.latencyFixed.Load())
	if j := s.latencyJitter.Load(); j > 0 {
		d += time.Duration(rand.Int64N(j))
	}
	return d
}

// sleep waits d. It returns false if the client went away or the fake was
// closed first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// hang waits until the client goes away or the fake is closed.
func (s *Server) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-s.closing:
	}
}

// cut sends what was written so far (nothing, if flush is false) and
// closes the connection without completing the response. It hijacks the
// connection when the server allows it (HTTP/1) and otherwise aborts the
// handler with http.ErrAbortHandler, which closes the connection or resets
// the HTTP/2 stream.
func cut(w http.ResponseWriter, flush bool) {
	rc := http.NewResponseController(w)
	if flush {
		_ = rc.Flush()
	}
	conn, _, err := rc.Hijack()
	if err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}
