package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

const (
	token = "pts_runner_test_token"
	key   = "sk-runner-test-key"
)

// rig is a run against the fakes, with the real audit client, batcher and
// model client in between.
type rig struct {
	pangea *fakeapi.Pangea
	openai *fakeapi.OpenAI
	out    bytes.Buffer
}

func newRig(t *testing.T) *rig {
	return &rig{pangea: fakeapi.StartPangea(t, token), openai: fakeapi.StartOpenAI(t, key)}
}

// work builds a Work over the JSONL suite text; mod may adjust it.
func (r *rig) work(t *testing.T, suite string, j int, mod func(*Work)) *Work {
	t.Helper()
	s, err := prompts.OpenReader("suite.jsonl", strings.NewReader(suite), prompts.JSONL)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := audit.NewClient(audit.Config{Domain: r.pangea.URL(), Token: token, Concurrency: 4, Retries: 3, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b := audit.NewBatcher(ac, audit.BatcherConfig{Concurrency: 4, Linger: 2 * time.Millisecond})
	t.Cleanup(b.Close)
	mc, err := llm.New(llm.Config{BaseURL: r.openai.BaseURL(), APIKey: key, Retries: 3, Backoff: time.Millisecond, Concurrency: j})
	if err != nil {
		t.Fatal(err)
	}
	w := &Work{
		Suites:      []*prompts.Suite{s},
		Models:      []string{"gpt-4o-mini"},
		Concurrency: j,
		Audit:       b,
		Model:       mc,
		Report:      report.NewWriter(&r.out),
	}
	if mod != nil {
		mod(w)
	}
	return w
}

// records parses the report.
func (r *rig) records(t *testing.T) []report.Record {
	t.Helper()
	var recs []report.Record
	for i, line := range strings.Split(strings.TrimSuffix(r.out.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec report.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("report line %d is not JSON: %v", i+1, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func suiteOf(n int, line func(i int) string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(line(i))
		b.WriteByte('\n')
	}
	return b.String()
}

func plainItem(i int) string {
	return fmt.Sprintf(`{"id":"item-%04d","prompt":"question %d about <links> & \"tokens\"","context":"context %d\u2028line"}`, i, i, i%7)
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestFailClosed(t *testing.T) {
	r := newRig(t)
	r.pangea.SetRejector(fakeapi.RejectContaining("event_input", "poison"))
	suite := suiteOf(20, func(i int) string {
		if i == 11 {
			return `{"id":"bad","prompt":"a poison question","context":"ctx"}`
		}
		return plainItem(i)
	})
	if err := r.work(t, suite, 4, nil).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.openai.ChatRequests() {
		if strings.Contains(c.Prompt(), "poison") {
			t.Fatal("the prompt whose audit was rejected reached the model")
		}
	}
	recs := r.records(t)
	if len(recs) != 20 {
		t.Fatalf("%d lines, want 20", len(recs))
	}
	for _, rec := range recs {
		if rec.ID == "bad" {
			if rec.Status != report.Error || !strings.Contains(rec.Error, "rejected") || !strings.Contains(rec.Error, "not sent") || rec.Audit.Input != nil {
				t.Errorf("rejected item: %+v", rec)
			}
			continue
		}
		if rec.Status != report.Pass || rec.Audit.Input == nil {
			t.Errorf("%s: %s %s", rec.ID, rec.Status, rec.Error)
		}
	}
	if got := r.openai.ChatCount(); got != 19 {
		t.Errorf("model got %d prompts, want 19", got)
	}
}

func TestCompleteOrderedAndAudited(t *testing.T) {
	r := newRig(t)
	r.pangea.SetLatency(time.Millisecond, 4*time.Millisecond)
	r.openai.SetLatency(time.Millisecond, 15*time.Millisecond)
	const n = 500
	if err := r.work(t, suiteOf(n, plainItem), 32, nil).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := r.records(t)
	if len(recs) != n {
		t.Fatalf("%d lines, want %d", len(recs), n)
	}
	issued := map[string]string{} // event_input → hash
	for _, e := range r.pangea.Events() {
		issued[e.Event["event_input"].(string)] = e.Hash
	}
	for i, rec := range recs {
		if want := fmt.Sprintf("item-%04d", i); rec.ID != want {
			t.Fatalf("line %d is %s, want %s: not in input order", i+1, rec.ID, want)
		}
		if rec.Status != report.Pass || rec.Audit.Input == nil {
			t.Fatalf("%s: %s %s", rec.ID, rec.Status, rec.Error)
		}
		ev, _ := audit.Format{}.Input(fmt.Sprintf("context %d\u2028line", i%7), rec.Prompt, audit.Meta{})
		h := rec.Audit.Input.Hash
		if !hex64.MatchString(h) || issued[ev.EventInput] != h {
			t.Fatalf("%s: receipt %q, the fake issued %q for its event", rec.ID, h, issued[ev.EventInput])
		}
		if want := fakeapi.DefaultAnswer(prompts.Render(prompts.DefaultSystem, fmt.Sprintf("context %d\u2028line", i%7)), rec.Prompt); rec.Answer != want {
			t.Fatalf("%s: answer %q, the fake gave %q", rec.ID, rec.Answer, want)
		}
	}
	// The audit side kept its connections: at most its concurrency (4) + 2
	// over the whole run.
	if st := r.pangea.Stats(); st.ConnsOpened > 4+2 {
		t.Errorf("%d connections opened to the audit host for %d calls", st.ConnsOpened, st.Requests)
	}
}

// TestFaithfulAndAuditedFirst checks that every chat request carries exactly
// the context and prompt of an event the fake Pangea had accepted before the
// request arrived.
func TestFaithfulAndAuditedFirst(t *testing.T) {
	r := newRig(t)
	r.pangea.SetLatency(2*time.Millisecond, 2*time.Millisecond)
	if err := r.work(t, suiteOf(100, plainItem), 16, nil).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	accepted := map[string]time.Time{}
	for _, e := range r.pangea.Events() {
		accepted[e.Event["event_input"].(string)] = e.ReceivedAt
	}
	chats := r.openai.ChatRequests()
	if len(chats) != 100 {
		t.Fatalf("%d chat requests", len(chats))
	}
	for _, c := range chats {
		if _, err := fmt.Sscanf(c.Prompt(), "question %d", new(int)); err != nil {
			t.Fatalf("prompt %q", c.Prompt())
		}
		sys := c.System()
		ctx := strings.TrimPrefix(sys, strings.TrimSuffix(prompts.DefaultSystem, "{{context}}"))
		ev, _ := audit.Format{}.Input(ctx, c.Prompt(), audit.Meta{})
		at, ok := accepted[ev.EventInput]
		if !ok {
			t.Fatalf("chat request with prompt %q and context %q has no audit event carrying that exact text", c.Prompt(), ctx)
		}
		if !at.Before(c.Time) {
			t.Fatalf("prompt %q reached the model at %v, before its event was accepted at %v", c.Prompt(), c.Time, at)
		}
	}
}

// gauge counts calls in progress and remembers the most at once.
type gauge struct{ now, max atomic.Int64 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}
func (g *gauge) leave() { g.now.Add(-1) }

type gaugedRecorder struct {
	Recorder
	g *gauge
}

func (r gaugedRecorder) Record(ctx context.Context, ev audit.Event) (audit.Receipt, error) {
	r.g.enter()
	defer r.g.leave()
	return r.Recorder.Record(ctx, ev)
}

type gaugedCompleter struct {
	Completer
	g *gauge
}

func (c gaugedCompleter) Complete(ctx context.Context, req llm.Request) (llm.Answer, error) {
	c.g.enter()
	defer c.g.leave()
	return c.Completer.Complete(ctx, req)
}

func TestBounded(t *testing.T) {
	r := newRig(t)
	r.openai.SetLatency(0, 5*time.Millisecond)
	const j = 7
	var items gauge
	w := r.work(t, suiteOf(300, plainItem), j, func(w *Work) {
		w.Audit = gaugedRecorder{w.Audit, &items}
		w.Model = gaugedCompleter{w.Model, &items}
	})
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := items.max.Load(); m > j {
		t.Errorf("%d audit or model calls in flight at once, over -j %d", m, j)
	}
	if st := r.openai.Stats(); st.MaxInFlight > j {
		t.Errorf("the model saw %d requests at once, over -j %d", st.MaxInFlight, j)
	}
	if len(r.records(t)) != 300 {
		t.Error("lines missing")
	}
}

func TestNoBulkCallOverPangeasLimit(t *testing.T) {
	r := newRig(t)
	r.openai.SetLatency(50*time.Millisecond, 0)
	const n = 3000
	w := r.work(t, suiteOf(n, plainItem), 2500, func(w *Work) {
		// A long linger lets calls fill up to the limit even on a slow
		// machine, so the bound is really exercised.
		ac, err := audit.NewClient(audit.Config{Domain: r.pangea.URL(), Token: token, Concurrency: 4})
		if err != nil {
			t.Fatal(err)
		}
		b := audit.NewBatcher(ac, audit.BatcherConfig{Concurrency: 4, Linger: time.Second})
		t.Cleanup(b.Close)
		w.Audit = b
	})
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := r.pangea.MaxBatch(); m > audit.MaxBatch || m < 500 {
		t.Errorf("largest bulk call carried %d events; want many, and never over %d", m, audit.MaxBatch)
	}
	if r.pangea.EventCount() != n {
		t.Errorf("%d events accepted", r.pangea.EventCount())
	}
}

func TestStopFinishesWhatIsInFlight(t *testing.T) {
	r := newRig(t)
	r.openai.SetLatency(20*time.Millisecond, 0)
	w := r.work(t, suiteOf(1000, plainItem), 4, nil)
	var once sync.Once
	w.Progress = func(rec *report.Record) {
		if rec.ID == "item-0010" {
			once.Do(w.Stop)
		}
	}
	if err := w.Run(context.Background()); err != ErrInterrupted {
		t.Fatalf("got %v, want ErrInterrupted", err)
	}
	recs := r.records(t)
	if len(recs) < 11 || len(recs) > 11+4*4+16 {
		t.Fatalf("%d lines after a stop at line 11", len(recs))
	}
	for i, rec := range recs {
		if rec.ID != fmt.Sprintf("item-%04d", i) || rec.Status != report.Pass {
			t.Fatalf("line %d: %s %s", i+1, rec.ID, rec.Status)
		}
	}
	if r.openai.ChatCount() != len(recs) {
		t.Errorf("%d prompts sent, %d lines written: an answer was lost", r.openai.ChatCount(), len(recs))
	}
}

func TestModelFailureIsReportedWithAttempts(t *testing.T) {
	r := newRig(t)
	r.openai.SetFaults(func(c fakeapi.Call) fakeapi.Fault {
		if strings.Contains(c.Prompt, "question 3 ") {
			return fakeapi.Status500
		}
		return fakeapi.NoFault
	})
	if err := r.work(t, suiteOf(6, plainItem), 2, nil).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := r.records(t)
	rec := recs[3]
	if rec.Status != report.Error || !strings.Contains(rec.Error, "500") || rec.Attempts != 4 || rec.Audit.Input == nil {
		t.Errorf("failed item: %+v", rec)
	}
	for i, rec := range recs {
		if i != 3 && rec.Status != report.Pass {
			t.Errorf("%s: %s", rec.ID, rec.Status)
		}
	}
}

func TestInvalidStreamedItemStopsTheRunKeepingWhatWasDone(t *testing.T) {
	r := newRig(t)
	suite := suiteOf(5, plainItem) + `{"id":"broken","promt":"typo"}` + "\n" + suiteOf(5, plainItem)
	err := r.work(t, suite, 2, nil).Run(context.Background())
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `"promt"`) {
		t.Fatalf("got %v, want an InputError about promt", err)
	}
	if recs := r.records(t); len(recs) != 5 {
		t.Fatalf("%d lines; the 5 items before the bad line must be written", len(recs))
	}
}

func TestChecksDecideTheStatus(t *testing.T) {
	r := newRig(t)
	suite := `{"id":"ok","prompt":"p1","expect":[{"type":"icontains","value":"ANSWER TO"}]}
{"id":"bad","prompt":"p2","expect":[{"type":"contains","value":"answer to"},{"type":"not-regex","value":"p2"}]}
`
	if err := r.work(t, suite, 2, nil).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := r.records(t)
	if recs[0].Status != report.Pass || recs[1].Status != report.Fail || len(recs[1].Checks) != 2 || recs[1].Checks[0].Pass {
		t.Fatalf("records: %+v", recs)
	}
	if !strings.Contains(recs[1].Checks[0].Found, "not found") {
		t.Errorf("failed check does not say what it found: %+v", recs[1].Checks[0])
	}
}
