// Command fakeserver serves the fake Pangea Secure Audit Log and the fake
// OpenAI-compatible API of internal/fakeapi as a process of its own, so that
// a benchmark measures tracebatch (or promptfoo) alone: the fakes' CPU time
// and memory are not the measured process's.
//
//	fakeserver -model-latency 20ms -audit-latency 20ms -ready out/urls.env -stats out/stats.env
//
// It listens on three loopback ports: Pangea, OpenAI (under /v1) and a
// control port. When all three are listening it writes -ready (or stdout):
//
//	PANGEA_URL=http://127.0.0.1:41001
//	OPENAI_BASE_URL=http://127.0.0.1:41002/v1
//	CONTROL_URL=http://127.0.0.1:41003
//
// The control port answers
//
//	GET  /stats            the counters, as JSON (?format=env: KEY=VALUE lines)
//	POST /reset            fresh fakes with the same settings: counters at zero
//	POST /latency?model=20ms&audit=20ms&model-jitter=0s&audit-jitter=0s
//
// The counters are those of fakeapi: HTTP requests, TCP connections opened,
// most requests in flight at once, and for Pangea the events accepted and
// the largest bulk call. Connections to the control port are not counted.
// The fake's own CPU time and peak RSS (since it started, not reset) come
// with them: the fakes share the machine with the measured process.
// On SIGTERM or SIGINT it writes the counters to -stats (KEY=VALUE lines)
// and shuts down.
//
// The fakes keep only counters (fakeapi.RetainCounts) unless -retain all is
// given, so that millions of events fit in memory; Pangea still keeps its
// Merkle tree (32 bytes an event). The OpenAI fake reports a rate-limit
// budget in its x-ratelimit-* headers, never enforced; it is large by
// default so that a client that adapts to those headers (tracebatch does)
// is not slowed down by a budget the benchmark did not ask for.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
)

// settings are what every new pair of fakes is made with.
type settings struct {
	auditToken, openaiKey     string
	modelLatency, modelJitter time.Duration
	auditLatency, auditJitter time.Duration
	retention                 fakeapi.Retention
	rateRequests, rateTokens  int
}

// fakes is one pair of fakes; /reset replaces it with a fresh one.
type fakes struct {
	pangea *fakeapi.Pangea
	openai *fakeapi.OpenAI
}

// service holds the current fakes and routes traffic and connection events
// to them.
type service struct {
	mu  sync.Mutex // guards set and the swap of cur
	set settings
	cur atomic.Pointer[fakes]

	// owner remembers which fakes accepted each connection, so that a
	// connection opened before a reset and closed after it is counted by
	// the fakes that counted its opening.
	owner sync.Map // net.Conn -> *fakeapi.Server
}

func newFakes(s settings) *fakes {
	p := fakeapi.NewPangea(s.auditToken)
	p.SetRetention(s.retention)
	p.SetLatency(s.auditLatency, s.auditJitter)
	o := fakeapi.NewOpenAI(s.openaiKey)
	o.SetRetention(s.retention)
	o.SetLatency(s.modelLatency, s.modelJitter)
	o.SetRateLimits(fakeapi.RateLimits{Requests: s.rateRequests, Tokens: s.rateTokens, Window: time.Minute})
	return &fakes{pangea: p, openai: o}
}

// reset puts fresh fakes in place and closes the old ones.
func (sv *service) reset() {
	sv.mu.Lock()
	old := sv.cur.Swap(newFakes(sv.set))
	sv.mu.Unlock()
	if old != nil {
		old.pangea.Close()
		old.openai.Close()
	}
}

// setLatency changes the latency of the current fakes and of later ones.
func (sv *service) setLatency(model, modelJitter, audit, auditJitter time.Duration) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.set.modelLatency, sv.set.modelJitter = model, modelJitter
	sv.set.auditLatency, sv.set.auditJitter = audit, auditJitter
	f := sv.cur.Load()
	f.openai.SetLatency(model, modelJitter)
	f.pangea.SetLatency(audit, auditJitter)
}

// server returns an http.Server that serves one of the current fakes,
// chosen by pick.
func (sv *service) server(pick func(*fakes) *fakeapi.Server) *http.Server {
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pick(sv.cur.Load()).Handler().ServeHTTP(w, r)
		}),
		ConnState: func(c net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				s := pick(sv.cur.Load())
				sv.owner.Store(c, s)
				s.ConnState(c, state)
			case http.StateClosed, http.StateHijacked:
				if s, ok := sv.owner.LoadAndDelete(c); ok {
					s.(*fakeapi.Server).ConnState(c, state)
				}
			}
		},
		ReadHeaderTimeout: 30 * time.Second,
	}
}

// stats are the counters of the current fakes, and what this process has
// used so far (the fakes share the machine with the measured process).
type stats struct {
	Pangea  serverStats  `json:"pangea"`
	OpenAI  serverStats  `json:"openai"`
	Process processStats `json:"process"`
}

type processStats struct {
	CPUSeconds float64 `json:"cpu_s"`
	MaxRSSKB   int64   `json:"maxrss_kb"`
}

// selfUsage reads this process's CPU time and peak RSS.
func selfUsage() processStats {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return processStats{}
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return processStats{CPUSeconds: cpu.Seconds(), MaxRSSKB: ru.Maxrss}
}

type serverStats struct {
	Requests    int64 `json:"requests"`
	ConnsOpened int64 `json:"conns_opened"`
	ConnsOpen   int64 `json:"conns_open"`
	MaxInFlight int64 `json:"max_in_flight"`
	// Pangea only.
	Events   int `json:"events,omitempty"`
	MaxBatch int `json:"max_batch,omitempty"`
	// OpenAI only.
	Chats int `json:"chats,omitempty"`
}

func (sv *service) stats() stats {
	f := sv.cur.Load()
	ps, ms := f.pangea.Stats(), f.openai.Stats()
	return stats{
		Pangea: serverStats{Requests: ps.Requests, ConnsOpened: ps.ConnsOpened, ConnsOpen: ps.ConnsOpen, MaxInFlight: ps.MaxInFlight,
			Events: f.pangea.EventCount(), MaxBatch: f.pangea.MaxBatch()},
		OpenAI: serverStats{Requests: ms.Requests, ConnsOpened: ms.ConnsOpened, ConnsOpen: ms.ConnsOpen, MaxInFlight: ms.MaxInFlight,
			Chats: f.openai.ChatCount()},
		Process: selfUsage(),
	}
}

// env writes the counters as KEY=VALUE lines, sorted, for shell scripts.
func (st stats) env(w io.Writer) {
	lines := []string{
		fmt.Sprintf("pangea_requests=%d", st.Pangea.Requests),
		fmt.Sprintf("pangea_conns_opened=%d", st.Pangea.ConnsOpened),
		fmt.Sprintf("pangea_max_in_flight=%d", st.Pangea.MaxInFlight),
		fmt.Sprintf("pangea_events=%d", st.Pangea.Events),
		fmt.Sprintf("pangea_max_batch=%d", st.Pangea.MaxBatch),
		fmt.Sprintf("openai_requests=%d", st.OpenAI.Requests),
		fmt.Sprintf("openai_conns_opened=%d", st.OpenAI.ConnsOpened),
		fmt.Sprintf("openai_max_in_flight=%d", st.OpenAI.MaxInFlight),
		fmt.Sprintf("openai_chats=%d", st.OpenAI.Chats),
		fmt.Sprintf("fake_cpu_s=%.3f", st.Process.CPUSeconds),
		fmt.Sprintf("fake_maxrss_kb=%d", st.Process.MaxRSSKB),
	}
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// control is the handler of the control port.
func (sv *service) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		st := sv.stats()
		if r.URL.Query().Get("format") == "env" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			st.env(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		sv.reset()
		fmt.Fprintln(w, "reset")
	})
	mux.HandleFunc("POST /latency", func(w http.ResponseWriter, r *http.Request) {
		sv.mu.Lock()
		cur := sv.set
		sv.mu.Unlock()
		q := r.URL.Query()
		vals := []*time.Duration{&cur.modelLatency, &cur.auditLatency, &cur.modelJitter, &cur.auditJitter}
		for i, name := range []string{"model", "audit", "model-jitter", "audit-jitter"} {
			if v := q.Get(name); v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d < 0 {
					http.Error(w, fmt.Sprintf("%s: want a duration such as 20ms, got %q", name, v), http.StatusBadRequest)
					return
				}
				*vals[i] = d
			}
		}
		sv.setLatency(cur.modelLatency, cur.modelJitter, cur.auditLatency, cur.auditJitter)
		fmt.Fprintf(w, "model %v (+%v), audit %v (+%v)\n", cur.modelLatency, cur.modelJitter, cur.auditLatency, cur.auditJitter)
	})
	return mux
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("fakeserver: ")
	var set settings
	pangeaAddr := flag.String("pangea-addr", "127.0.0.1:0", "listen address of the fake Pangea")
	openaiAddr := flag.String("openai-addr", "127.0.0.1:0", "listen address of the fake OpenAI")
	controlAddr := flag.String("control-addr", "127.0.0.1:0", "listen address of the control port (/stats, /reset, /latency)")
	flag.DurationVar(&set.modelLatency, "model-latency", 0, "latency of every OpenAI request")
	flag.DurationVar(&set.modelJitter, "model-jitter", 0, "random extra latency of an OpenAI request, uniform in [0, jitter)")
	flag.DurationVar(&set.auditLatency, "audit-latency", 0, "latency of every Pangea request")
	flag.DurationVar(&set.auditJitter, "audit-jitter", 0, "random extra latency of a Pangea request, uniform in [0, jitter)")
	flag.StringVar(&set.auditToken, "audit-token", "pts_bench", "the Pangea token the fake accepts")
	flag.StringVar(&set.openaiKey, "openai-key", "sk-bench", "the OpenAI key the fake accepts")
	retain := flag.String("retain", "counts", "what the fakes keep of what they receive: counts (benchmarks) or all")
	flag.IntVar(&set.rateRequests, "rate-requests", 1_000_000_000, "requests a minute the OpenAI fake reports in x-ratelimit-* (never enforced)")
	flag.IntVar(&set.rateTokens, "rate-tokens", 1_000_000_000_000, "tokens a minute the OpenAI fake reports in x-ratelimit-* (never enforced)")
	ready := flag.String("ready", "", "write the URLs to this file (KEY=VALUE lines) once serving; default stdout")
	statsFile := flag.String("stats", "", "on SIGTERM or SIGINT, write the counters to this file (KEY=VALUE lines)")
	flag.Parse()
	switch *retain {
	case "counts":
		set.retention = fakeapi.RetainCounts
	case "all":
		set.retention = fakeapi.RetainAll
	default:
		log.Fatalf("-retain: want counts or all, got %q", *retain)
	}

	sv := &service{set: set}
	sv.cur.Store(newFakes(set))

	var servers []*http.Server
	var urls []string
	serve := func(name, addr string, srv *http.Server) string {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Fatalf("%s: %v", name, err)
			}
		}()
		return "http://" + l.Addr().String()
	}
	pu := serve("pangea", *pangeaAddr, sv.server(func(f *fakes) *fakeapi.Server { return f.pangea.Server }))
	ou := serve("openai", *openaiAddr, sv.server(func(f *fakes) *fakeapi.Server { return f.openai.Server }))
	cu := serve("control", *controlAddr, &http.Server{Handler: sv.control(), ReadHeaderTimeout: 10 * time.Second})
	urls = append(urls, "PANGEA_URL="+pu, "OPENAI_BASE_URL="+ou+"/v1", "CONTROL_URL="+cu)
	if err := writeFile(*ready, strings.Join(urls, "\n")+"\n"); err != nil {
		log.Fatal(err)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if *statsFile != "" {
		var b strings.Builder
		sv.stats().env(&b)
		if err := writeFile(*statsFile, b.String()); err != nil {
			log.Print(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f := sv.cur.Load()
	f.pangea.Close() // releases the handlers that wait out a latency
	f.openai.Close()
	for _, srv := range servers {
		_ = srv.Shutdown(ctx)
	}
}

// writeFile writes text to path atomically (a reader polling for the file
// never sees half of it), or to stdout when path is "".
func writeFile(path, text string) error {
	if path == "" {
		_, err := io.WriteString(os.Stdout, text)
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
