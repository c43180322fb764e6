package main

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/report"
)

func history(n int, contextSize int) string {
	var b strings.Builder
	ctx := strings.Repeat("c", contextSize)
	for i := range n {
		fmt.Fprintf(&b, `{"id":"h%d","prompt":"old question %d","context":%q,"answer":"old answer %d","actor":"alice","timestamp":"2025-01-02T03:04:05Z"}`+"\n", i, i, ctx, i)
	}
	return b.String()
}

func TestBackfillEndToEnd(t *testing.T) {
	x := newTB(t)
	in := x.write("history.jsonl", history(2500, 10))
	res := x.run("", "backfill", "--audit-responses", "-o", "backfill.jsonl", in)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs := x.records("backfill.jsonl")
	if len(recs) != 2500 {
		t.Fatalf("%d lines", len(recs))
	}
	for i, r := range recs {
		if r.Index != i || r.Status != report.Audited || r.Audit.Input == nil || r.Audit.Output == nil || len(r.Audit.Output.Hash) != 64 {
			t.Fatalf("line %d: %+v", i+1, r)
		}
	}
	if got := x.pangea.EventCount(); got != 5000 {
		t.Errorf("%d events, want 5000", got)
	}
	if x.openai.Stats().Requests != 0 {
		t.Error("backfill called the model")
	}
	if !strings.Contains(res.stderr, "2500 audited, 0 error") {
		t.Errorf("summary: %s", res.stderr)
	}
	if files := x.noSecrets(res); strings.Join(files, ",") != "backfill.jsonl,history.jsonl" {
		t.Errorf("files: %v", files)
	}
	res = x.run("", "backfill", "--async", "-o", "async.jsonl", in)
	if res.code != 0 {
		t.Fatalf("--async: exit %d: %s", res.code, res.stderr)
	}
	for _, r := range x.records("async.jsonl") {
		if !r.Audit.Input.Pending || r.Audit.Input.RequestID == "" {
			t.Fatalf("--async receipt: %+v", r.Audit.Input)
		}
	}
}

func TestPreflightStopsAMismatchedConfigBeforeSending(t *testing.T) {
	x := newTB(t)
	if err := x.pangea.SetSchema(fakeapi.StandardSchema()); err != nil {
		t.Fatal(err)
	}
	suite := x.write("small.yaml", passingSuite)
	res := x.run("", "run", "-o", "r.jsonl", suite)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--audit-schema standard") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, r := range x.pangea.Requests() {
		if r.Path != "/v1/schema" {
			t.Fatalf("sent %s before the preflight passed", r.Path)
		}
	}
	res = x.run("", "run", "--audit-schema", "standard", "--audit-responses", "-o", "r.jsonl", suite)
	if res.code != 0 {
		t.Fatalf("standard mode: exit %d: %s", res.code, res.stderr)
	}
	ev := x.pangea.Events()[0].Event
	want, _ := audit.Format{Schema: audit.StandardSchema}.Input("Magic links are single-use sign-in links.", "What are magic links?", audit.Meta{Model: "gpt-4o-mini"})
	if ev["message"] != want.Message || ev["action"] != audit.TypeInput || ev["source"] != "OpenAI" || ev["target"] != "gpt-4o-mini" {
		t.Errorf("standard event: %v", ev)
	}
	if recs := x.records("r.jsonl"); recs[0].Audit.Output == nil {
		t.Error("--audit-responses left no output receipt")
	}
}

func TestPreflightCatchesOversizedContexts(t *testing.T) {
	x := newTB(t)
	in := x.write("big.jsonl", history(3, 40000))
	res := x.run("", "backfill", "-o", "b.jsonl", in)
	if res.code != exitUsage || !strings.Contains(res.stderr, "big.jsonl:1:") || !strings.Contains(res.stderr, "--audit-context sha256") || !strings.Contains(res.stderr, "32766") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if x.pangea.EventCount() != 0 {
		t.Fatal("events were sent despite the preflight")
	}
	res = x.run("", "backfill", "--audit-context", "sha256", "-o", "b.jsonl", in)
	if res.code != 0 {
		t.Fatalf("sha256 mode: exit %d: %s", res.code, res.stderr)
	}
	input := x.pangea.Events()[0].Event["event_input"].(string)
	if !strings.Contains(input, `"context_length":40000`) || !strings.Contains(input, `"context_sha256":"`) || strings.Contains(input, "ccc") {
		t.Errorf("event_input: %.200s", input)
	}
}

func TestUnreadableSchemaIsSaidOnceAndTheRunGoesOn(t *testing.T) {
	x := newTB(t)
	x.pangea.SetSchemaForbidden(true)
	suite := x.write("small.yaml", passingSuite)
	res := x.run("", "run", "-o", "r.jsonl", suite)
	if res.code != 0 || strings.Count(res.stderr, "preflight") != 1 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
}

func TestSigningAndProofs(t *testing.T) {
	x := newTB(t)
	_, key, _ := ed25519.GenerateKey(nil)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "signing.pem") // outside the working directory
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	in := x.write("history.jsonl", history(20, 10))
	res := x.run("", "backfill", "--audit-signing-key", keyFile, "--verify-proofs", "--audit-responses", "-o", "b.jsonl", in)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, e := range x.pangea.Events() {
		if e.Signature == "" || !strings.Contains(e.PublicKey, "BEGIN PUBLIC KEY") {
			t.Fatalf("unsigned event %v", e.Event)
		}
	}
	for i, r := range x.records("b.jsonl") {
		for _, rc := range []*audit.Receipt{r.Audit.Input, r.Audit.Output} {
			p := rc.Proof
			if p == nil || p.Hash != audit.Verified || p.Event != audit.Verified || p.Signature != audit.Verified || (i > 0 && p.Membership != audit.Verified) {
				t.Fatalf("line %d proof: %+v", i+1, p)
			}
		}
	}
	bad := x.write("bad.pem", "not a key")
	if res := x.run("", "backfill", "--audit-signing-key", bad, "-o", "b.jsonl", in); res.code != exitUsage || !strings.Contains(res.stderr, "openssl genpkey") {
		t.Errorf("bad key: exit %d: %s", res.code, res.stderr)
	}
}

func TestAskRecordsTheAnswerToo(t *testing.T) {
	x := newTB(t)
	res := x.run("", "ask", "--audit-responses", "What are magic links?")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	evs := x.pangea.Events()
	if len(evs) != 2 || evs[1].Event["event_type"] != audit.TypeOutput || evs[1].Event["event_output"] != strings.TrimSpace(res.stdout) {
		t.Fatalf("events: %+v", evs)
	}
}

func TestAskPreflightCatchesAnOversizedContext(t *testing.T) {
	x := newTB(t)
	x.write("big.txt", strings.Repeat("c", 40000))
	res := x.run("", "ask", "--context-file", "big.txt", "hello")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--audit-context sha256") || x.pangea.EventCount() != 0 || x.openai.ChatCount() != 0 {
		t.Fatalf("exit %d, %d events, %d chats: %s", res.code, x.pangea.EventCount(), x.openai.ChatCount(), res.stderr)
	}
	if res := x.run("", "ask", "--audit-context", "sha256", "--context-file", "big.txt", "hello"); res.code != 0 {
		t.Fatalf("sha256: exit %d: %s", res.code, res.stderr)
	}
}
