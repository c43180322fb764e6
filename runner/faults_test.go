package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/llm"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// TestFaultsEverywhere has both fakes answer a fifth of all calls with a mix
// of 429, 500, 503, 202, slow answers, dropped connections and garbage. The
// run must finish with every line, in order; every pass must carry a receipt
// the fake issued for its own event; every error must say why; and no
// prompt may reach the model before its event was accepted.
func TestFaultsEverywhere(t *testing.T) {
	r := newRig(t)
	params := fakeapi.DefaultFaultParams()
	params.RetryAfter429 = 0
	params.SlowDelay = 30 * time.Millisecond
	r.pangea.SetFaultParams(params)
	r.openai.SetFaultParams(params)
	r.pangea.SetPendingPolls(1)
	r.pangea.SetFaults(fakeapi.OnPaths(fakeapi.FailRandom(1, 0.2,
		fakeapi.Status429, fakeapi.Status500, fakeapi.Status503, fakeapi.Accepted202, fakeapi.Slow, fakeapi.Drop, fakeapi.Malformed), "/v2/log"))
	r.openai.SetFaults(fakeapi.FailRandom(2, 0.2,
		fakeapi.Status429, fakeapi.Status500, fakeapi.Status503, fakeapi.Accepted202, fakeapi.Slow, fakeapi.Drop, fakeapi.DropMidStream, fakeapi.Malformed, fakeapi.Timeout))
	const n = 400
	w := r.work(t, suiteOf(n, plainItem), 16, func(w *Work) {
		ac, err := audit.NewClient(audit.Config{Domain: r.pangea.URL(), Token: token, Concurrency: 4, Retries: 3, Backoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		b := audit.NewBatcher(ac, audit.BatcherConfig{Concurrency: 4, Linger: 2 * time.Millisecond, Size: 20})
		t.Cleanup(b.Close)
		w.Audit = b
		mc, err := llm.New(llm.Config{BaseURL: r.openai.BaseURL(), APIKey: key, Retries: 2, Backoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		w.Model = mc
	})
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := r.records(t)
	wholeInOrder(t, recs, n)

	byHash := r.pangea.EventsByHash()
	accepted := map[string]time.Time{}
	for _, e := range r.pangea.Events() {
		in := e.Event["event_input"].(string)
		if at, ok := accepted[in]; !ok || e.ReceivedAt.Before(at) {
			accepted[in] = e.ReceivedAt
		}
	}
	var pass, errs int
	for _, rec := range recs {
		switch rec.Status {
		case report.Pass:
			pass++
			ev, _ := audit.Format{}.Input(contextOf(rec.Index), rec.Prompt, audit.Meta{})
			got, ok := byHash[rec.Audit.Input.Hash]
			if !ok || got.Event["event_input"] != ev.EventInput {
				t.Errorf("%s: receipt %s is not the fake's for this event", rec.ID, rec.Audit.Input.Hash)
			}
		case report.Error:
			errs++
			if rec.Error == "" || (!strings.HasPrefix(rec.Error, "audit:") && !strings.HasPrefix(rec.Error, "model:")) {
				t.Errorf("%s: error without a reason: %q", rec.ID, rec.Error)
			}
		default:
			t.Errorf("%s: status %s", rec.ID, rec.Status)
		}
	}
	for _, c := range r.openai.ChatRequests() {
		ctx := strings.TrimPrefix(c.System(), strings.TrimSuffix(prompts.DefaultSystem, "{{context}}"))
		ev, _ := audit.Format{}.Input(ctx, c.Prompt(), audit.Meta{})
		at, ok := accepted[ev.EventInput]
		if !ok || !at.Before(c.Time) {
			t.Fatalf("prompt %q reached the model without an accepted event before it", c.Prompt())
		}
	}
	t.Logf("%d pass, %d error; %d audit calls, %d model calls", pass, errs, len(r.pangea.Requests()), r.openai.ChatCount())
	if pass < n*9/10 {
		t.Errorf("only %d of %d passed: retries are not doing their job", pass, n)
	}
}

func contextOf(index int) string {
	return [7]string{"context 0\u2028line", "context 1\u2028line", "context 2\u2028line", "context 3\u2028line", "context 4\u2028line", "context 5\u2028line", "context 6\u2028line"}[index%7]
}

// wholeInOrder checks one line per item, in input order.
func wholeInOrder(t *testing.T, recs []report.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d lines, want %d", len(recs), n)
	}
	for i, rec := range recs {
		if rec.Index != i {
			t.Fatalf("line %d has index %d", i+1, rec.Index)
		}
	}
}
