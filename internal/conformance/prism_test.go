//go:build unix

package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// prism is a running Prism mock server (`prism mock -d --errors`) of one
// OpenAPI document, on a loopback port, in a process group of its own.
type prism struct {
	// URL is where it listens: http://127.0.0.1:PORT.
	URL string

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}

	stopOnce sync.Once
	output   string
}

// startPrism starts the Prism at bin on spec, with dynamic examples and
// --errors, on a free port of 127.0.0.1, and returns once it accepts
// connections. Its stdout and stderr go to a file (see Output). It is
// stopped, with every process it started, when the test ends. The test
// fails if Prism does not start within 60 seconds.
func startPrism(t *testing.T, bin, spec string) *prism {
	t.Helper()
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		p := &prism{URL: "http://127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(dir, fmt.Sprintf("prism-%d.log", attempt)), exited: make(chan struct{})}
		logf, err := os.Create(p.logPath)
		if err != nil {
			t.Fatal(err)
		}
		p.cmd = exec.Command(bin, "mock", "-d", "--errors", "-h", "127.0.0.1", "-p", strconv.Itoa(port), spec)
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		p.cmd.Env = append(os.Environ(), "NO_COLOR=1", "FORCE_COLOR=0")
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err = p.cmd.Start()
		logf.Close()
		if err != nil {
			t.Fatalf("starting Prism (%s): %v", bin, err)
		}
		go func() { p.cmd.Wait(); close(p.exited) }()
		t.Cleanup(func() { p.Stop() })
		err = p.waitListening(port, 60*time.Second)
		if err == nil {
			return p
		}
		out := p.Stop()
		if strings.Contains(out, "EADDRINUSE") && attempt < 3 {
			continue // another process took the port first
		}
		t.Fatalf("Prism did not start on %s: %v\n%s", spec, err, out)
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p *prism) waitListening(port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return errors.New("Prism exited")
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not listening after %v", timeout)
}

// Output returns what Prism has written so far, without ANSI colours.
func (p *prism) Output() string {
	b, _ := os.ReadFile(p.logPath)
	return ansi.ReplaceAllString(string(b), "")
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// WaitLogged waits up to five seconds for Prism's log to show n requests
// received, so that stopping it loses none of its lines.
func (p *prism) WaitLogged(n int) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Count(p.Output(), logReceived) >= n {
			return
		}
	}
}

// Stop ends Prism and every process of its group (SIGTERM, then SIGKILL
// after five seconds) and returns its whole output. It may be called more
// than once.
func (p *prism) Stop() string {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
		syscall.Kill(-pgid, syscall.SIGKILL) // anything left in the group
		p.output = p.Output()
	})
	return p.output
}

// What Prism 5.14.2 logs for each request: it is received, then validated.
// A request that fails validation is logged as not passing, with each
// violation as "Violation: request…"; a request Prism cannot route (an
// unknown path or method) as "Request terminated with error". Its error
// lines carry the ✖ mark.
const (
	logReceived  = "Request received"
	logPassed    = "The request passed the validation rules"
	logFailed    = "Request did not pass the validation rules"
	logViolation = "Violation:"
	logNoRoute   = "Request terminated with error"
	logErrorMark = "✖"
)

// checkPrismLog fails the test for every line of Prism's output that
// reports a request violation or an error, and unless every one of the
// requests received passed validation; requests is how many the proxy
// forwarded, and each of paths must have been requested at least once.
func checkPrismLog(t *testing.T, out string, requests int, paths ...string) {
	t.Helper()
	var bad []string
	for _, line := range strings.Split(out, "\n") {
		for _, mark := range []string{logFailed, logViolation, logNoRoute, logErrorMark} {
			if strings.Contains(line, mark) {
				bad = append(bad, strings.TrimSpace(line))
				break
			}
		}
	}
	if len(bad) > 0 {
		if len(bad) > 30 {
			bad = append(bad[:30], fmt.Sprintf("… and %d more", len(bad)-30))
		}
		t.Errorf("Prism reported requests that do not conform to the spec:\n%s", strings.Join(bad, "\n"))
	}
	received, passed := strings.Count(out, logReceived), strings.Count(out, logPassed)
	if received != requests || passed != requests {
		t.Errorf("Prism logged %d requests received and %d that passed validation; %d were sent", received, passed, requests)
	}
	for _, path := range paths {
		if !strings.Contains(out, "post "+path+" ") {
			t.Errorf("Prism saw no POST %s", path)
		}
	}
	if t.Failed() {
		t.Logf("Prism's output (end):\n%s", tail(out, 60))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// exchange is one request forwarded to Prism and its answer.
type exchange struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Status       int
	// Violations is Prism's sl-violations header: the request's violations
	// of the spec, as JSON; empty when it conforms.
	Violations string
	// Response is the start of the answer's body.
	Response []byte
}

func (e exchange) String() string {
	s := fmt.Sprintf("%s %s → %d", e.Method, e.Path, e.Status)
	if e.Violations != "" {
		s += "\n  Prism's violations: " + e.Violations
	}
	return clip(s, 2500) + "\n  request: " + clip(string(e.Body), 1500) + "\n  answer: " + clip(string(e.Response), 600)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// recorder is a loopback reverse proxy in front of Prism that records every
// exchange. It passes requests on unchanged (it adds no X-Forwarded-*
// headers), so Prism validates exactly what tracebatch sent; it lets each
// request be tied to its invocation, its body and Prism's verdict.
type recorder struct {
	URL string

	mu        sync.Mutex
	exchanges []exchange
}

// startRecorder starts a recorder in front of target; it is closed when the
// test ends.
func startRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		c := &capture{ResponseWriter: w}
		proxy.ServeHTTP(c, req)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.exchanges = append(r.exchanges, exchange{
			Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body,
			Status: c.status, Violations: w.Header().Get("sl-violations"), Response: c.body.Bytes(),
		})
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Len returns how many exchanges have been recorded.
func (r *recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.exchanges)
}

// Since returns the exchanges recorded after the first n.
func (r *recorder) Since(n int) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.exchanges[n:]...)
}

// capture is a ResponseWriter that keeps the status and the start of the
// body.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len() < 8<<10 {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// buildTracebatch builds the tracebatch binary from the repository root
// into a temporary directory and returns its path; the test fails if it
// does not build.
func buildTracebatch(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tracebatch")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// result is how one tracebatch invocation ended and what it sent.
type result struct {
	Code           int
	Stdout, Stderr string
	// Calls are the requests it made to Prism.
	Calls []exchange
}

// tracebatch runs the binary at bin in dir with args and an environment
// free of PANGEA_* and OPENAI_* variables, and returns how it ended and the
// requests rec forwarded meanwhile (invocations must not overlap on one
// recorder). The test fails if it runs longer than two minutes, dies of a
// signal, or panics (a Go panic or fatal error on stderr).
func tracebatch(t *testing.T, bin, dir string, rec *recorder, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PANGEA_") && !strings.HasPrefix(kv, "OPENAI_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	from := rec.Len()
	err := cmd.Run()
	res := result{Stdout: stdout.String(), Stderr: stderr.String(), Calls: rec.Since(from)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("tracebatch %s did not finish within two minutes\nstderr:\n%s", strings.Join(args, " "), res.Stderr)
	case errors.As(err, &ee) && ee.Exited():
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("tracebatch %s: %v\nstderr:\n%s", strings.Join(args, " "), err, res.Stderr)
	}
	if strings.Contains(res.Stderr, "panic:") || strings.Contains(res.Stderr, "goroutine ") {
		t.Fatalf("tracebatch %s crashed (exit %d):\n%s", strings.Join(args, " "), res.Code, res.Stderr)
	}
	return res
}
