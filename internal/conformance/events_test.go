//go:build unix

package conformance

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/audit"
)

// checkEventShapes sends every shape of event tracebatch builds in the
// given schema mode ("ai" or "standard") — prompt with and without context
// and metadata, prompt with the context's hash, answer with and without
// metadata, empty answer — one per call through rec to Prism, with the
// audit client as the commands configure it: plain, signed, verbose
// (--verify-proofs) and async. It fails the test for each event Prism
// finds invalid, naming the event and Prism's violations, and for each
// outcome that is neither a refusal of Prism's answer for a reason it
// explains nor a receipt with a 64-hex hash.
//
// The commands reach some of these shapes only once an earlier event was
// accepted (answers in run and ask), which Prism's random hashes never
// allow; this is where those shapes meet the spec.
func checkEventShapes(t *testing.T, rec *recorder, schema string) {
	s, err := audit.ParseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	full := audit.Format{Schema: s}
	hashed := audit.Format{Schema: s, Context: audit.HashContext}
	meta := audit.Meta{Model: "gpt-4o-mini", Actor: "Zoë <zoe@example.com>", Time: time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("", 2*3600))}
	input := func(f audit.Format, context, prompt string, m audit.Meta) audit.Event {
		ev, err := f.Input(context, prompt, m)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	shapes := []struct {
		name string
		ev   audit.Event
	}{
		{"prompt", input(full, "Magic links are <single-use> & short-lived.", "What are magic links?\u2028", meta)},
		{"prompt without context or metadata", input(full, "", "What are magic links?", audit.Meta{})},
		{"prompt with the context's hash", input(hashed, "Magic links…", "What are magic links?", meta)},
		{"answer", full.Output("Magic links let you sign in without a password.", meta)},
		{"answer without metadata", full.Output("I don't know.", audit.Meta{})},
		{"empty answer", full.Output("", audit.Meta{Model: "gpt-4o-mini"})},
	}

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clients := []struct {
		name  string
		cfg   audit.Config
		async bool
	}{
		{"plain", audit.Config{}, false},
		{"signed", audit.Config{Signer: audit.NewSigner(key)}, false},
		{"verbose", audit.Config{Verbose: true}, false},
		{"async", audit.Config{}, true},
	}
	ctx := context.Background()
	for _, c := range clients {
		cfg := c.cfg
		cfg.Domain, cfg.Token, cfg.Retries, cfg.Concurrency = rec.URL, auditToken, 0, 1
		cl, err := audit.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			from := rec.Len()
			var out audit.Outcome
			if c.async {
				out = cl.LogBulkAsync(ctx, []audit.Event{sh.ev})[0]
			} else {
				out = cl.LogBulk(ctx, []audit.Event{sh.ev})[0]
			}
			ev, _ := json.Marshal(sh.ev)
			calls := rec.Since(from)
			if len(calls) != 1 {
				t.Errorf("%s event (%s client): %d calls, want 1", sh.name, c.name, len(calls))
			}
			refused := false
			for _, call := range calls {
				want := 200
				if c.async {
					want = 202
				}
				if call.Status != want || call.Violations != "" {
					refused = true
					t.Errorf("%s %s: Prism refused the %s event %s (%s client):\n%s", schema, call.Path, sh.name, ev, c.name, call)
				}
			}
			switch {
			case refused:
			case out.Err != nil && !knownAuditFailure(out.Err.Error()):
				t.Errorf("%s event (%s client): %v", sh.name, c.name, out.Err)
			case out.Err != nil:
			case c.async && (!out.Receipt.Pending || out.Receipt.RequestID == ""):
				t.Errorf("%s event (async): receipt %+v", sh.name, out.Receipt)
			case !c.async && !hexHash.MatchString(out.Receipt.Hash):
				t.Errorf("%s event (%s client): receipt %+v has no 64-hex hash", sh.name, c.name, out.Receipt)
			}
		}
	}
}
