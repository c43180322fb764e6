//go:build unix

package conformance

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
)

const (
	// auditToken and openAIKey are dummies; neither may appear in any
	// output.
	auditToken = "pts_conformance_dummy"
	openAIKey  = "sk-conformance0dummy0key"
	// nItems is the number of items of each generated input.
	nItems = 40
	// batchSize is the --audit-batch-size of the backfills: several bulk
	// calls per run, each of which Prism answers with 0 to a few results.
	batchSize = 7
)

// TestPrism runs tracebatch against Prism mocking Pangea's published Secure
// Audit Log API: in Standard-schema mode against the published spec, and in
// the default (AI) mode against its AI Audit Log Schema variant. Prism
// validates every request against the spec and answers with examples it
// generates from the spec's response schemas: random strings where hashes
// should be, and often fewer results than events. The test proves that
//
//   - every request tracebatch sends (backfill, sync and async, with proofs,
//     signed; run; ask; the schema preflight) passes Prism's validation;
//   - tracebatch never crashes on those answers and exits 0, 2 or 3;
//   - every report is valid JSONL with one line per item, in order, each
//     either an error that says why or a receipt with a 64-hex hash: no
//     receipt is made up from an answer without a valid hash for the event;
//   - no prompt reaches the model without a receipt (run, ask).
//
// It is skipped when Prism is not installed (npm ci in the repository root
// installs the pinned one; .ci/run does).
func TestPrism(t *testing.T) {
	prismBin := prismPath(t)
	if prismBin == "" {
		t.Skip("Prism is not installed (node_modules/.bin/prism): run `npm ci` in the repository root to run the Pangea conformance tests (.ci/run does)")
	}
	if testing.Short() {
		t.Skip("starts Prism and builds the binary")
	}
	spec := publishedSpec(t)
	root := repoRoot(t)
	aiSpec := filepath.Join(root, filepath.FromSlash(aiSpecRel))
	if _, err := os.Stat(aiSpec); err != nil {
		t.Fatalf("the AI variant of the spec: %v; generate it with: go test ./internal/conformance -run TestAIVariantIsCurrent -update", err)
	}
	bin := buildTracebatch(t, root)
	for _, m := range []struct{ schema, spec string }{{"standard", spec}, {"ai", aiSpec}} {
		t.Run(m.schema, func(t *testing.T) {
			t.Parallel()
			p := startPrism(t, prismBin, m.spec)
			x := &harness{bin: bin, schema: m.schema, dir: t.TempDir(), rec: startRecorder(t, p.URL)}
			x.history = writeHistory(t, x.dir)
			x.suite = writeSuite(t, x.dir)
			x.key = writeSigningKey(t, x.dir)
			x.openai = fakeapi.StartOpenAI(t, openAIKey)

			t.Run("backfill", func(t *testing.T) { x.backfill(t, "backfill", false) })
			t.Run("backfill-verify-proofs", func(t *testing.T) {
				x.backfill(t, "backfill-proofs", false, "--verify-proofs", "--audit-context", "sha256")
			})
			t.Run("backfill-async", func(t *testing.T) { x.backfill(t, "backfill-async", false, "--async") })
			t.Run("backfill-signed", func(t *testing.T) {
				x.backfill(t, "backfill-signed", false, "--audit-signing-key", x.key)
			})
			t.Run("backfill-preflight", func(t *testing.T) { x.backfill(t, "backfill-preflight", true) })
			t.Run("run", func(t *testing.T) { x.run(t, "run", false) })
			t.Run("run-preflight", func(t *testing.T) { x.run(t, "run-preflight", true) })
			t.Run("ask", func(t *testing.T) { x.ask(t, false) })
			t.Run("ask-preflight", func(t *testing.T) { x.ask(t, true) })
			t.Run("events", func(t *testing.T) { checkEventShapes(t, x.rec, m.schema) })

			p.WaitLogged(x.rec.Len())
			checkPrismLog(t, p.Stop(), x.rec.Len(), "/v2/log", "/v2/log_async", "/v1/schema")
		})
	}
}

// harness runs tracebatch in one schema mode against one Prism, through
// one recorder; its invocations run one after another.
type harness struct {
	bin, schema, dir string
	rec              *recorder
	openai           *fakeapi.OpenAI
	// history is a backfill input, suite a run suite, key a signing key.
	history, suite, key string
}

// connection returns the flags that reach Prism (through the recorder) in
// the harness's mode; the AI mode is the default, so it is not named.
func (x *harness) connection(preflight bool) []string {
	args := []string{"--pangea-domain", x.rec.URL, "--audit-token", auditToken}
	if x.schema != "ai" {
		args = append(args, "--audit-schema", x.schema)
	}
	if !preflight {
		args = append(args, "--audit-preflight=false")
	}
	return args
}

// backfill runs `tracebatch backfill --audit-responses` over the history
// with extra flags, writing name.jsonl, and checks the run.
func (x *harness) backfill(t *testing.T, name string, preflight bool, extra ...string) {
	args := append([]string{"backfill"}, x.connection(preflight)...)
	args = append(args, "--audit-responses", "--audit-batch-size", fmt.Sprint(batchSize), "--audit-concurrency", "3", "-o", name+".jsonl")
	args = append(args, extra...)
	args = append(args, x.history)
	res := tracebatch(t, x.bin, x.dir, x.rec, args...)
	async := slices.Contains(extra, "--async")
	logPath := "/v2/log"
	if async {
		logPath = "/v2/log_async"
	}
	if x.refused(t, res, preflight, name) {
		return
	}
	checkExit(t, res, 0, 3)
	events := checkCalls(t, res.Calls, logPath, preflight, batchSize)
	// Each item sends its prompt and, when it has one, its answer: once,
	// as nothing is retried after a 200.
	if want := nItems + withAnswers; events.total != want {
		t.Errorf("%d events sent for %d items with %d answers; want %d", events.total, nItems, withAnswers, want)
	}
	if slices.Contains(extra, "--verify-proofs") != events.verbose {
		t.Errorf("verbose in the requests is %v with flags %v", events.verbose, extra)
	}
	if slices.Contains(extra, "--audit-signing-key") && events.signed != events.total {
		t.Errorf("%d of %d events signed with --audit-signing-key", events.signed, events.total)
	}
	lines := checkReport(t, filepath.Join(x.dir, name+".jsonl"), async)
	for i, l := range lines {
		if l.Status == "audited" && hasAnswer(i) && l.Audit.Output == nil {
			t.Errorf("line %d (%s): audited without the receipt of its answer", i+1, l.ID)
		}
	}
	noSecrets(t, res, filepath.Join(x.dir, name+".jsonl"))
}

// run runs `tracebatch run --audit-responses` over the suite with the fake
// OpenAI as the model, writing name.jsonl, and checks the run: besides
// the common checks, only prompts with a receipt reached the model.
func (x *harness) run(t *testing.T, name string, preflight bool) {
	args := append([]string{"run"}, x.connection(preflight)...)
	args = append(args, "--openai-api-key", openAIKey, "--openai-base-url", x.openai.BaseURL(),
		"--audit-responses", "-j", "4", "-o", name+".jsonl", x.suite)
	chats := x.openai.ChatCount()
	res := tracebatch(t, x.bin, x.dir, x.rec, args...)
	asked := x.openai.ChatCount() - chats
	if x.refused(t, res, preflight, name) {
		if asked != 0 {
			t.Errorf("%d prompts sent to the model after the preflight refused the config", asked)
		}
		return
	}
	checkExit(t, res, 0, 3)
	events := checkCalls(t, res.Calls, "/v2/log", preflight, audit.MaxBatch)
	lines := checkReport(t, filepath.Join(x.dir, name+".jsonl"), false)
	received := 0
	for _, l := range lines {
		if l.Audit.Input != nil {
			received++
		}
	}
	if asked != received {
		t.Errorf("%d prompts reached the model but only %d had a receipt", asked, received)
	}
	// Every prompt's event, and the answer's event of each prompt asked.
	if want := nItems + asked; events.total != want {
		t.Errorf("%d events sent; want %d (%d prompts, %d answers)", events.total, want, nItems, asked)
	}
	noSecrets(t, res, filepath.Join(x.dir, name+".jsonl"))
}

// ask runs `tracebatch ask` with the fake OpenAI as the model and checks
// that it either printed a valid receipt and the answer, or failed with
// exit 3 saying why, without asking the model.
func (x *harness) ask(t *testing.T, preflight bool) {
	args := append([]string{"ask"}, x.connection(preflight)...)
	args = append(args, "--openai-api-key", openAIKey, "--openai-base-url", x.openai.BaseURL(), "What are magic links? <b>&</b>")
	chats := x.openai.ChatCount()
	res := tracebatch(t, x.bin, x.dir, x.rec, args...)
	asked := x.openai.ChatCount() - chats
	name := "ask"
	if preflight {
		name = "ask-preflight"
	}
	if x.refused(t, res, preflight, name) {
		if asked != 0 {
			t.Errorf("the prompt was sent to the model after the preflight refused the config")
		}
		return
	}
	checkExit(t, res, 0, 3)
	checkCalls(t, res.Calls, "/v2/log", preflight, 1)
	switch {
	case res.Code == 0:
		m := regexp.MustCompile(`audited: hash (\S*) `).FindStringSubmatch(res.Stderr)
		if m == nil || !hexHash.MatchString(m[1]) || asked != 1 {
			t.Errorf("exit 0 without a valid receipt (%q) or with %d model calls\nstderr:\n%s", m, asked, res.Stderr)
		}
	case asked != 0:
		t.Errorf("the prompt reached the model although its audit failed\nstderr:\n%s", res.Stderr)
	case !strings.Contains(res.Stderr, "the prompt was not sent") || !knownAuditFailure(res.Stderr):
		t.Errorf("exit %d without the reason expected from Prism's answer\nstderr:\n%s", res.Code, res.Stderr)
	}
	noSecrets(t, res, "")
}

// refused reports whether the invocation ended because the schema preflight
// refused the config Prism described (a random schema): then it must have
// exited 2 with a message naming the preflight, having sent nothing but the
// schema request and written no report line. With the preflight off it is
// always false.
func (x *harness) refused(t *testing.T, res result, preflight bool, name string) bool {
	t.Helper()
	if !preflight || res.Code != 2 {
		if preflight {
			t.Logf("the preflight let the run go on (Prism described a config it could not read or that fits): %s", firstLine(res.Stderr, "note:"))
		}
		return false
	}
	t.Logf("the preflight refused Prism's random config: %s", firstLine(res.Stderr, "preflight"))
	if !strings.Contains(res.Stderr, "preflight") {
		t.Errorf("exit 2 without a message about the preflight\nstderr:\n%s", res.Stderr)
	}
	checkCalls(t, res.Calls, "/v1/schema", true, 0)
	if b, err := os.ReadFile(filepath.Join(x.dir, name+".jsonl")); err == nil && len(b) > 0 {
		t.Errorf("the preflight refused the config, yet %s.jsonl has %d bytes", name, len(b))
	}
	return true
}

// firstLine returns the first line of s that contains sub, or "".
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// checkExit fails the test unless the exit code is one of codes.
func checkExit(t *testing.T, res result, codes ...int) {
	t.Helper()
	if !slices.Contains(codes, res.Code) {
		t.Errorf("exit %d, want one of %v\nstderr:\n%s", res.Code, codes, tail(res.Stderr, 30))
	}
}

// callStats sums up the bulk calls of an invocation.
type callStats struct {
	total, signed int
	verbose       bool
}

// checkCalls checks every request of an invocation: each goes to logPath
// (or /v1/schema when the preflight is on) as a POST with a JSON body and
// the bearer token, passed Prism's validation (no sl-violations header;
// the status the spec gives a valid request), and a bulk call carries 1 to
// maxEvents events. It returns what the bulk calls carried.
func checkCalls(t *testing.T, calls []exchange, logPath string, preflight bool, maxEvents int) callStats {
	t.Helper()
	want := map[string]int{"/v2/log": 200, "/v2/log_async": 202, "/v1/schema": 200}
	var s callStats
	seen := map[string]int{}
	e := &limited{t: t, max: 3}
	defer e.done()
	for _, c := range calls {
		seen[c.Path]++
		ok := c.Path == logPath || (preflight && c.Path == "/v1/schema")
		switch {
		case !ok:
			e.Errorf("unexpected request:\n%s", c)
			continue
		case c.Status != want[c.Path] || c.Violations != "":
			e.Errorf("Prism refused a request (a valid one gets %d):\n%s", want[c.Path], c)
			continue
		case c.Method != "POST" || !strings.HasPrefix(c.Header.Get("Content-Type"), "application/json"):
			e.Errorf("not a JSON POST (Content-Type %q):\n%s", c.Header.Get("Content-Type"), c)
		case c.Header.Get("Authorization") != "Bearer "+auditToken:
			e.Errorf("%s %s without the bearer token", c.Method, c.Path)
		}
		if c.Path == "/v1/schema" {
			continue
		}
		var body struct {
			Events []struct {
				Event     map[string]any `json:"event"`
				Signature string         `json:"signature"`
				PublicKey string         `json:"public_key"`
			} `json:"events"`
			Verbose bool `json:"verbose"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			e.Errorf("%s body is not the expected JSON: %v", c.Path, err)
			continue
		}
		if n := len(body.Events); n < 1 || n > maxEvents {
			e.Errorf("a bulk call with %d events (want 1 to %d)", n, maxEvents)
		}
		s.total += len(body.Events)
		s.verbose = s.verbose || body.Verbose
		for _, e := range body.Events {
			if e.Signature != "" && e.PublicKey != "" {
				s.signed++
			}
		}
	}
	if seen[logPath] == 0 && !preflight {
		t.Errorf("no request to %s; requests: %v", logPath, seen)
	}
	return s
}

// line is what the test reads of a report line.
type line struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Audit  struct {
		Input  *receipt `json:"input"`
		Output *receipt `json:"output"`
	} `json:"audit"`
}

type receipt struct {
	Hash      string          `json:"hash"`
	RequestID string          `json:"request_id"`
	Pending   bool            `json:"pending"`
	Proof     json.RawMessage `json:"proof"`
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// knownAuditFailure reports whether msg is one of the ways tracebatch
// refuses an answer of Prism's that has no usable receipt for an event: a
// result without a valid hash, or no result at all.
func knownAuditFailure(msg string) bool {
	return strings.Contains(msg, "has no valid hash for this event") || strings.Contains(msg, audit.ErrNoReceipt.Error())
}

// checkReport checks the report at path: valid JSONL, one line per item
// (item-000 … in order), each either an error that gives a reason Prism's
// answers explain (never a refusal by Pangea: 400, 422), or a success with
// a receipt for its prompt; every receipt carries a 64-hex hash and a
// request ID, or with async is pending with a request ID. It returns the
// lines.
func checkReport(t *testing.T, path string, async bool) []line {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Errorf("the report does not end with a whole line")
	}
	raw := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(raw) != nItems {
		t.Errorf("%d report lines for %d items", len(raw), nItems)
	}
	var lines []line
	reasons := map[string]int{}
	e := &limited{t: t, max: 5}
	for i, r := range raw {
		var l line
		if err := json.Unmarshal([]byte(r), &l); err != nil {
			e.Errorf("report line %d is not JSON: %v: %s", i+1, err, clip(r, 200))
			continue
		}
		lines = append(lines, l)
		where := fmt.Sprintf("report line %d (%s)", i+1, l.ID)
		if want := fmt.Sprintf("item-%03d", i); l.ID != want {
			e.Errorf("%s: want %s here", where, want)
		}
		for kind, rc := range map[string]*receipt{"input": l.Audit.Input, "output": l.Audit.Output} {
			if rc == nil {
				continue
			}
			switch {
			case rc.RequestID == "":
				e.Errorf("%s: %s receipt without a request_id", where, kind)
			case async && (!rc.Pending || rc.Hash != ""):
				e.Errorf("%s: async %s receipt is not a pending one (pending %v, hash %q)", where, kind, rc.Pending, rc.Hash)
			case !async && (rc.Pending || !hexHash.MatchString(rc.Hash)):
				e.Errorf("%s: %s receipt has no 64-hex hash (%q, pending %v): a receipt was made up", where, kind, rc.Hash, rc.Pending)
			}
		}
		switch l.Status {
		case "error":
			switch {
			case l.Error == "":
				e.Errorf("%s: an error without a reason", where)
			case strings.Contains(l.Error, "422") || strings.Contains(l.Error, "answered 400") || strings.Contains(l.Error, "rejected"):
				e.Errorf("%s: Prism refused a request: %s", where, l.Error)
			case !knownAuditFailure(l.Error):
				e.Errorf("%s: an error Prism's answers do not explain: %s", where, l.Error)
			}
			switch {
			case strings.Contains(l.Error, "no valid hash"):
				reasons["no valid hash"]++
			case strings.Contains(l.Error, audit.ErrNoReceipt.Error()):
				reasons["no result for the event"]++
			}
		case "audited", "pass", "fail":
			if l.Audit.Input == nil {
				e.Errorf("%s: status %s without the receipt of its prompt", where, l.Status)
			}
			reasons[l.Status]++
		default:
			e.Errorf("%s: status %q", where, l.Status)
		}
	}
	e.done()
	t.Logf("report: %v", reasons)
	return lines
}

// limited reports the first max failures it is given through t and
// counts the others, so that one fault repeated on every request or line
// does not bury the rest; done reports the count.
type limited struct {
	t      *testing.T
	max, n int
}

func (l *limited) Errorf(format string, args ...any) {
	l.t.Helper()
	l.n++
	if l.n <= l.max {
		l.t.Errorf(format, args...)
	}
}

func (l *limited) done() {
	l.t.Helper()
	if l.n > l.max {
		l.t.Errorf("… and %d more failures like these", l.n-l.max)
	}
}

// noSecrets fails the test if the token or the key appears in the output
// of the invocation or in the report at path ("" for none).
func noSecrets(t *testing.T, res result, path string) {
	t.Helper()
	all := res.Stdout + res.Stderr
	if path != "" {
		b, _ := os.ReadFile(path)
		all += string(b)
	}
	for _, s := range []string{auditToken, openAIKey} {
		if strings.Contains(all, s) {
			t.Errorf("a secret (%s…) appears in the output or the report", s[:6])
		}
	}
}

// historyItem is one line of a backfill input.
type historyItem struct {
	ID        string `json:"id"`
	Prompt    string `json:"prompt"`
	Context   string `json:"context,omitempty"`
	Answer    string `json:"answer,omitempty"`
	Actor     string `json:"actor,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Model     string `json:"model,omitempty"`
}

// Texts that canonical JSON and the wire must carry unchanged: markup, the
// characters Go escapes by default, line and paragraph separators, control
// characters, quotes, backslashes, and text outside the BMP.
var (
	prompts = []string{
		"What are magic links?",
		`Is <script>alert("x")</script> & 'quoted' text kept?`,
		"Line one\nline two\ttabbed\r\nand a bell \a",
		"Unicode: Zoë, 日本語, Ελληνικά, emoji 🔐, U+2028 [\u2028] and U+2029 [\u2029]",
		`Backslash \ slash / and "double" quotes`,
	}
	contexts = []string{
		"Magic links are single-use sign-in links sent by email.",
		strings.Repeat("A long context with <tags> & ünïcödé, repeated. ", 80),
		"{\"looks\": \"like JSON\", \"n\": 1}",
	}
	answers = []string{
		"Magic links let you sign in without a password.",
		"I don't know.\n\n- a list\n- of <b>things</b> & more",
		strings.Repeat("A long answer. ", 300),
	}
	actors = []string{
		"user-42",
		"Zoë Ångström <zoe@example.com>",
		strings.Repeat("é", 128), // the most the spec allows: 128 characters
	}
	timestamps = []string{
		"2024-02-29T23:59:59Z",
		"2025-06-01T08:30:00.123+02:00",
		"2023-12-31T23:59:59.999999999-05:00",
	}
)

// hasAnswer says whether the generated history item i has an answer.
func hasAnswer(i int) bool { return i%3 != 2 }

// withAnswers is how many of the generated history items have an answer.
var withAnswers = func() int {
	n := 0
	for i := range nItems {
		if hasAnswer(i) {
			n++
		}
	}
	return n
}()

// writeHistory writes a backfill input of nItems items (item-000 …) to
// dir/history.jsonl and returns its path. Every item has a prompt; items
// vary in having a context, an answer (see hasAnswer), an actor, a
// timestamp and a model.
func writeHistory(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for i := range nItems {
		it := historyItem{ID: fmt.Sprintf("item-%03d", i), Prompt: fmt.Sprintf("%s (#%d)", prompts[i%len(prompts)], i)}
		if i%4 != 3 {
			it.Context = contexts[i%len(contexts)]
		}
		if hasAnswer(i) {
			it.Answer = answers[i%len(answers)]
		}
		if i%5 != 4 {
			it.Actor = actors[i%len(actors)]
		}
		if i%2 == 0 {
			it.Timestamp = timestamps[(i/2)%len(timestamps)]
		}
		if i%6 == 0 {
			it.Model = "gpt-4o-mini"
		}
		if err := enc.Encode(it); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "history.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSuite writes a run suite of nItems items (item-000 …) with the same
// prompts and contexts, without history fields, to dir/suite.jsonl and
// returns its path.
func writeSuite(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for i := range nItems {
		it := historyItem{ID: fmt.Sprintf("item-%03d", i), Prompt: fmt.Sprintf("%s (#%d)", prompts[i%len(prompts)], i)}
		if i%4 != 3 {
			it.Context = contexts[i%len(contexts)]
		}
		if err := enc.Encode(it); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "suite.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSigningKey writes a new ed25519 private key as PKCS#8 PEM (what
// `openssl genpkey -algorithm ed25519` writes) to dir/signing.pem and
// returns its path.
func writeSigningKey(t *testing.T, dir string) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "signing.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
