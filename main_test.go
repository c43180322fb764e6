package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracebatch/tracebatch/audit"
	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// Sentinel secrets: no output, error, report or file may contain them.
const (
	sentinelToken = "pts_SENTINEL_audit_token_7f3a9c"
	sentinelKey   = "sk-SENTINEL-openai-key-5b2e8d"
)

type result struct {
	code           int
	stdout, stderr string
}

// tb runs the CLI in-process in a fresh working directory with the
// sentinel secrets in the environment and the fakes as the services.
type tb struct {
	t      *testing.T
	dir    string
	pangea *fakeapi.Pangea
	openai *fakeapi.OpenAI
}

func newTB(t *testing.T) *tb {
	x := &tb{t: t, dir: t.TempDir(), pangea: fakeapi.StartPangea(t, sentinelToken), openai: fakeapi.StartOpenAI(t, sentinelKey)}
	t.Chdir(x.dir)
	for k, v := range map[string]string{
		envAuditToken:    sentinelToken,
		envOpenAIKey:     sentinelKey,
		envPangeaDomain:  x.pangea.URL(),
		envOpenAIBaseURL: x.openai.BaseURL(),
		envAuditConfigID: "",
	} {
		t.Setenv(k, v)
	}
	return x
}

func (x *tb) run(stdin string, args ...string) result {
	x.t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"tracebatch"}, args...), strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// write puts a file in the working directory.
func (x *tb) write(name, content string) string {
	x.t.Helper()
	if err := os.WriteFile(filepath.Join(x.dir, name), []byte(content), 0o644); err != nil {
		x.t.Fatal(err)
	}
	return name
}

func (x *tb) records(name string) []report.Record {
	x.t.Helper()
	f, err := os.Open(filepath.Join(x.dir, name))
	if err != nil {
		x.t.Fatal(err)
	}
	defer f.Close()
	var recs []report.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r report.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			x.t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// noSecrets fails if any output or any file in the working directory holds
// a secret, and returns the names of the files there.
func (x *tb) noSecrets(res ...result) []string {
	x.t.Helper()
	for _, r := range res {
		for _, s := range []string{sentinelToken, sentinelKey} {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				x.t.Fatalf("output holds a secret:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
		}
	}
	var names []string
	filepath.WalkDir(x.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(x.dir, path)
		names = append(names, rel)
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(sentinelToken)) || bytes.Contains(b, []byte(sentinelKey)) {
			x.t.Fatalf("file %s holds a secret", rel)
		}
		return nil
	})
	return names
}

const passingSuite = `name: small
prompts:
  - id: one
    prompt: What are magic links?
    context: Magic links are single-use sign-in links.
    expect: [{type: icontains, value: "answer to"}]
  - id: two
    prompt: "Is <b>bold</b> & safe?"
    expect: [{type: contains, value: "Answer to"}]
`

func TestRunEndToEnd(t *testing.T) {
	x := newTB(t)
	suite := x.write("small.yaml", passingSuite)
	res := x.run("", "run", "-o", "report.jsonl", suite)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs := x.records("report.jsonl")
	if len(recs) != 2 || recs[0].ID != "one" || recs[1].ID != "two" {
		t.Fatalf("report: %+v", recs)
	}
	for _, r := range recs {
		if r.Status != report.Pass || r.Audit.Input == nil || len(r.Audit.Input.Hash) != 64 || r.Suite != "small" || r.Model != "gpt-4o-mini" {
			t.Errorf("record: %+v", r)
		}
	}
	if !strings.Contains(res.stderr, "2 pass, 0 fail, 0 error") || !strings.Contains(res.stderr, "report.jsonl") {
		t.Errorf("summary: %s", res.stderr)
	}
	info, err := os.Stat(filepath.Join(x.dir, "report.jsonl"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", info.Mode())
	}
	files := x.noSecrets(res)
	if strings.Join(files, ",") != "report.jsonl,small.yaml" {
		t.Errorf("the run left files besides the report: %v", files)
	}
}

func TestRunReadsJSONLFromStdin(t *testing.T) {
	x := newTB(t)
	stdin := `{"id":"a","prompt":"first"}
{"id":"b","prompt":"second","context":"c"}
`
	res := x.run(stdin, "run", "-o", "stdin.jsonl", "-")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs := x.records("stdin.jsonl")
	if len(recs) != 2 || recs[0].Suite != "stdin" || recs[1].ID != "b" {
		t.Fatalf("records %+v", recs)
	}
	res = x.run(`{"id":"a","prompt":"ok"}`+"\n"+`{"id":"b","promt":"typo"}`+"\n", "run", "-o", "bad-stdin.jsonl", "-")
	if res.code != exitUsage || !strings.Contains(res.stderr, `stdin:2:11: unknown field "promt"`) {
		t.Errorf("bad line on stdin: exit %d, %s", res.code, res.stderr)
	}
	if recs := x.records("bad-stdin.jsonl"); len(recs) != 1 {
		t.Errorf("the item before the bad line was not kept: %d lines", len(recs))
	}
}

func TestExitCodes(t *testing.T) {
	x := newTB(t)
	failing := x.write("failing.yaml", `prompts:
  - {prompt: hi, expect: [{type: contains, value: "never in the answer"}]}
  - {prompt: ok}
`)
	if res := x.run("", "run", "-o", "f.jsonl", failing); res.code != exitFailed {
		t.Errorf("a failed check: exit %d, want %d (%s)", res.code, exitFailed, res.stderr)
	}
	x.pangea.SetRejector(fakeapi.RejectContaining("event_input", "rejected"))
	erroring := x.write("erroring.yaml", `prompts:
  - {prompt: "this one is rejected"}
  - {prompt: "fine", expect: [{type: contains, value: "never"}]}
`)
	if res := x.run("", "run", "-o", "e.jsonl", erroring); res.code != exitIncomplete {
		t.Errorf("an item that could not complete: exit %d, want %d (%s)", res.code, exitIncomplete, res.stderr)
	}
	broken := x.write("broken.yaml", "prompts:\n  - promt: hi\n")
	res := x.run("", "run", "-o", "b.jsonl", broken)
	if res.code != exitUsage || !strings.Contains(res.stderr, `broken.yaml:2:5: unknown field "promt"; did you mean "prompt"?`) || !strings.Contains(res.stderr, "nothing was sent") {
		t.Errorf("an invalid suite: exit %d, stderr %s", res.code, res.stderr)
	}
	if res := x.run("", "run"); res.code != exitUsage {
		t.Errorf("no suite: exit %d", res.code)
	}
	if res := x.run("", "run", "--no-such-flag", failing); res.code != exitUsage {
		t.Errorf("unknown flag: exit %d", res.code)
	}
}

func TestMissingCredentialsSendNothing(t *testing.T) {
	x := newTB(t)
	suite := x.write("small.yaml", passingSuite)
	t.Setenv(envAuditToken, "")
	res := x.run("", "run", suite)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--audit-token") || !strings.Contains(res.stderr, "PANGEA_AUDIT_TOKEN") {
		t.Errorf("no audit token: exit %d, %s", res.code, res.stderr)
	}
	t.Setenv(envAuditToken, sentinelToken)
	t.Setenv(envOpenAIKey, "")
	res = x.run("", "run", suite)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--openai-api-key") || !strings.Contains(res.stderr, "OPENAI_API_KEY") {
		t.Errorf("no model key: exit %d, %s", res.code, res.stderr)
	}
	if n := x.pangea.Stats().Requests + x.openai.Stats().Requests; n != 0 {
		t.Errorf("%d requests were sent without credentials", n)
	}
}

func TestNoSecretsInHelpErrorsOrReport(t *testing.T) {
	x := newTB(t)
	var all []result
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"ask", "--help"}, {"validate", "--help"}, {"--version"}} {
		res := x.run("", args...)
		if res.code != 0 {
			t.Errorf("%v: exit %d", args, res.code)
		}
		all = append(all, res)
	}
	suite := x.write("small.yaml", passingSuite)
	// Wrong tokens on the server side: every call is refused.
	other := fakeapi.StartPangea(t, "pts_the_right_one")
	refused := x.run("", "run", "-o", "refused.jsonl", "--pangea-domain", other.URL(), suite)
	if refused.code != exitUsage || !strings.Contains(refused.stderr, "401") || !strings.Contains(refused.stderr, "PANGEA_AUDIT_TOKEN") {
		t.Errorf("refused token at preflight: exit %d, %s", refused.code, refused.stderr)
	}
	all = append(all, refused)
	all = append(all, x.run("", "run", "-o", "refused.jsonl", "--audit-preflight=false", "--pangea-domain", other.URL(), suite))
	otherModel := fakeapi.StartOpenAI(t, "sk-the-right-one")
	all = append(all, x.run("", "run", "-o", "refused-model.jsonl", "--openai-base-url", otherModel.BaseURL(), suite))
	all = append(all, x.run("", "ask", "--openai-base-url", otherModel.BaseURL(), "hello"))
	all = append(all, x.run("", "run", "--pangea-domain", "http://pangea.example.com", suite))
	all = append(all, x.run("", "run", "--openai-base-url", "http://llm.example.com/v1", suite))
	all = append(all, x.run("", "run", "--pangea-domain", "http://127.0.0.1:1", "-o", "down.jsonl", suite))
	// Secrets passed as flags, and a run that ends with a resume hint.
	down := x.run("", "run", "--audit-token", sentinelToken, "--openai-api-key="+sentinelKey, "--audit-preflight=false", "--pangea-domain", "http://127.0.0.1:1", "-o", "down2.jsonl", suite)
	if !strings.Contains(down.stderr, "--resume") {
		t.Errorf("no resume hint: %s", down.stderr)
	}
	all = append(all, down)
	x.noSecrets(all...)
	for _, r := range x.records("refused.jsonl") {
		if r.Status != report.Error || !strings.Contains(r.Error, "401") {
			t.Errorf("refused audit: %+v", r)
		}
	}
	for _, r := range x.records("refused-model.jsonl") {
		if r.Status != report.Error || !strings.Contains(r.Error, "OPENAI_API_KEY") {
			t.Errorf("refused model: %+v", r)
		}
	}
}

func TestPlaintextRefusedUnlessInsecure(t *testing.T) {
	x := newTB(t)
	suite := x.write("small.yaml", passingSuite)
	res := x.run("", "run", "--pangea-domain", "http://pangea.example.com", suite)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--insecure") {
		t.Errorf("exit %d: %s", res.code, res.stderr)
	}
}

func TestDryRunNeedsNoKeysAndSendsNothing(t *testing.T) {
	x := newTB(t)
	t.Setenv(envAuditToken, "")
	t.Setenv(envOpenAIKey, "")
	res := x.run("", "run", "--dry-run", filepath.Join(repoRoot(t), "testdata", "magic-links.yaml"))
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 14 {
		t.Fatalf("%d lines, want 14", len(lines))
	}
	var first dryRunLine
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want, _ := audit.Format{}.Input(prompts.MagicLinks, "What are magic links?", audit.Meta{})
	if first.AuditEvent != want || first.ID != "what-are-magic-links" || first.ChatRequest["model"] != "gpt-4o-mini" {
		t.Errorf("first line: %+v", first)
	}
	if n := x.pangea.Stats().Requests + x.openai.Stats().Requests; n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
}

func TestSuiteTwinsAgree(t *testing.T) {
	x := newTB(t)
	root := repoRoot(t)
	y := x.run("", "run", "--dry-run", filepath.Join(root, "testdata", "magic-links.yaml"))
	j := x.run("", "run", "--dry-run", filepath.Join(root, "testdata", "magic-links.jsonl"))
	if y.code != 0 || j.code != 0 {
		t.Fatalf("exit %d and %d: %s%s", y.code, j.code, y.stderr, j.stderr)
	}
	yl, jl := strings.Split(y.stdout, "\n"), strings.Split(j.stdout, "\n")
	if len(yl) != len(jl) {
		t.Fatalf("%d lines from YAML, %d from JSONL", len(yl), len(jl))
	}
	for i := range yl {
		if yl[i] != jl[i] {
			t.Fatalf("line %d differs between the YAML suite and its JSONL twin", i+1)
		}
	}
}

func TestValidate(t *testing.T) {
	x := newTB(t)
	root := repoRoot(t)
	res := x.run("", "validate", filepath.Join(root, "testdata", "magic-links.yaml"), filepath.Join(root, "testdata", "magic-links.jsonl"))
	if res.code != 0 || !strings.Contains(res.stdout, "2 suites, 28 items: no problems") {
		t.Errorf("clean: exit %d, %q", res.code, res.stdout)
	}
	res = x.run("", "validate", filepath.Join(root, "testdata", "suites", "many-errors.yaml"))
	if res.code != exitUsage || strings.Count(res.stderr, "many-errors.yaml:") < 4 {
		t.Errorf("broken: exit %d, %s", res.code, res.stderr)
	}
	if res := x.run("", "validate", "missing.yaml"); res.code != exitUsage || !strings.Contains(res.stderr, "missing.yaml") {
		t.Errorf("missing file: exit %d, %s", res.code, res.stderr)
	}
}

func TestAskAuditsThenStreams(t *testing.T) {
	x := newTB(t)
	res := x.run("", "ask", "What are magic links?")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := fakeapi.DefaultAnswer(prompts.Render(prompts.DefaultSystem, prompts.MagicLinks), "What are magic links?")
	if strings.TrimSpace(res.stdout) != want {
		t.Errorf("stdout %q, want %q", res.stdout, want)
	}
	events := x.pangea.Events()
	chats := x.openai.ChatRequests()
	if len(events) != 1 || len(chats) != 1 || !chats[0].Stream {
		t.Fatalf("%d events, %d chats", len(events), len(chats))
	}
	ev, _ := audit.Format{}.Input(prompts.MagicLinks, "What are magic links?", audit.Meta{})
	if events[0].Event["event_input"] != ev.EventInput || events[0].Event["event_type"] != "inference:user_prompt" || events[0].Event["event_tools"] != "OpenAI" {
		t.Errorf("event %+v", events[0].Event)
	}
	if !events[0].ReceivedAt.Before(chats[0].Time) {
		t.Error("the model was asked before the audit event was accepted")
	}
	if !strings.Contains(res.stderr, events[0].Hash) {
		t.Errorf("stderr does not give the audit hash: %s", res.stderr)
	}
	x.write("ctx.txt", "Tokens expire after 3 minutes.")
	if res := x.run("", "ask", "--context-file", "ctx.txt", "How long?"); res.code != 0 || x.openai.ChatRequests()[1].System() != prompts.Render(prompts.DefaultSystem, "Tokens expire after 3 minutes.") {
		t.Errorf("--context-file: exit %d %s", res.code, res.stderr)
	}
	x.pangea.SetRejector(fakeapi.RejectContaining("event_input", "forbidden"))
	res = x.run("", "ask", "a forbidden question")
	if res.code != exitIncomplete || !strings.Contains(res.stderr, "not sent") || x.openai.ChatCount() != 2 {
		t.Errorf("rejected audit: exit %d, %d chats, %s", res.code, x.openai.ChatCount(), res.stderr)
	}
	x.noSecrets(res)
}

func TestDotEnvIsRead(t *testing.T) {
	x := newTB(t)
	t.Setenv(envAuditToken, "")
	t.Setenv(envOpenAIKey, "")
	x.write(".env", "PANGEA_AUDIT_TOKEN="+sentinelToken+"\nOPENAI_API_KEY="+sentinelKey+"\n")
	suite := x.write("small.yaml", passingSuite)
	if res := x.run("", "run", "-o", "r.jsonl", suite); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
}

// repoRoot is the package directory, captured before tests change the
// working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	return testDir
}

var testDir = func() string {
	d, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return d
}()

func TestUsageMistakes(t *testing.T) {
	x := newTB(t)
	if res := x.run("", "frobnicate"); res.code != exitUsage || !strings.Contains(res.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %s", res.code, res.stderr)
	}
	os.MkdirAll(filepath.Join(x.dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(x.dir, "b"), 0o755)
	a := x.write("a/smoke.jsonl", `{"prompt":"one"}`+"\n")
	b := x.write("b/smoke.jsonl", `{"prompt":"two"}`+"\n")
	res := x.run("", "run", "-o", "r.jsonl", a, b)
	if res.code != exitUsage || !strings.Contains(res.stderr, `both named "smoke"`) {
		t.Errorf("two suites of one name: exit %d, %s", res.code, res.stderr)
	}
	if x.openai.ChatCount() != 0 {
		t.Error("prompts were sent")
	}
	if res := x.run("", "run", "--audit-concurrency", "0", a); res.code != exitUsage {
		t.Errorf("--audit-concurrency 0: exit %d", res.code)
	}
	res = x.run(`{"prompt":"ok"}`+"\n"+`{"promt":"x"}`+"\n", "run", "--dry-run", "-")
	if res.code != exitUsage || !strings.Contains(res.stderr, "nothing was sent") {
		t.Errorf("a bad line in a dry run: exit %d, %s", res.code, res.stderr)
	}
}
