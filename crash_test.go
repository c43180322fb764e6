package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tracebatch/tracebatch/internal/fakeapi"
	"github.com/tracebatch/tracebatch/prompts"
	"github.com/tracebatch/tracebatch/report"
)

// buildBinary builds tracebatch once for the tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "tracebatch")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = testDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is the binary running against the fakes.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func startBinary(t *testing.T, bin, dir string, x *tb, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...)}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(),
		envAuditToken+"="+sentinelToken, envOpenAIKey+"="+sentinelKey,
		envPangeaDomain+"="+x.pangea.URL(), envOpenAIBaseURL+"="+x.openai.BaseURL())
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *proc) wait() int {
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func bigSuite(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"item-%05d","prompt":"question %d: how do <magic> links & tokens work?","context":"context %d"}`+"\n", i, i, i%5)
	}
	path := filepath.Join(dir, "suite.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKillAndResume kills the real binary with SIGKILL at random moments,
// resumes each time, and checks that the report ends whole — one line per
// item, in order, each with the answer the fake gave for that prompt — and
// that Pangea accepted each item's event once, but for events in flight at
// a kill.
func TestKillAndResume(t *testing.T) {
	bin := buildBinary(t)
	x := newTB(t)
	x.openai.SetLatency(2*time.Millisecond, 6*time.Millisecond)
	x.pangea.SetLatency(time.Millisecond, 2*time.Millisecond)
	const n, j, kills = 3000, 32, 5
	suite := bigSuite(t, x.dir, n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	args := []string{"run", "-j", fmt.Sprint(j), "-o", "report.jsonl", suite}
	killed := 0
	for round := 0; ; round++ {
		a := args
		if round > 0 {
			a = append([]string{"run", "--resume"}, args[1:]...)
		}
		p := startBinary(t, bin, x.dir, x, a...)
		if killed < kills {
			time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
			p.cmd.Process.Signal(syscall.SIGKILL)
			code := p.wait()
			if code == 0 {
				break // it finished before the kill
			}
			killed++
			continue
		}
		if code := p.wait(); code != 0 {
			t.Fatalf("final resume: exit %d\n%s", code, p.stderr.String())
		}
		break
	}
	t.Logf("killed %d times; %d events accepted for %d items", killed, x.pangea.EventCount(), n)

	recs := x.records("report.jsonl")
	if len(recs) != n {
		t.Fatalf("%d lines, want %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Index != i || r.ID != fmt.Sprintf("item-%05d", i) || r.Status != report.Pass {
			t.Fatalf("line %d: %s index %d %s %s", i+1, r.ID, r.Index, r.Status, r.Error)
		}
		want := fakeapi.DefaultAnswer(prompts.Render(prompts.DefaultSystem, fmt.Sprintf("context %d", i%5)), r.Prompt)
		if r.Answer != want {
			t.Fatalf("%s: answer %q is not the one the fake gave, %q", r.ID, r.Answer, want)
		}
	}
	dups := 0
	for _, c := range x.pangea.Duplicates() {
		dups += c - 1
	}
	if dups > killed*j {
		t.Errorf("%d events accepted again after %d kills; at most %d (those in flight) may be", dups, killed, killed*j)
	}
	if got := x.pangea.EventCount() - dups; got != n {
		t.Errorf("%d distinct events for %d items", got, n)
	}
	for _, name := range []string{"report.jsonl.journal", "report.jsonl.resume"} {
		if _, err := os.Stat(filepath.Join(x.dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", name)
		}
	}
	x.noSecrets()
}

// TestInterruptFinishesInFlightAndTellsHowToResume sends SIGINT once: the
// run stops handing out items, writes what is in flight, exits 130 and
// prints the command that resumes; that command finishes the report.
func TestInterruptFinishesInFlightAndTellsHowToResume(t *testing.T) {
	bin := buildBinary(t)
	x := newTB(t)
	x.openai.SetLatency(20*time.Millisecond, 0)
	const n = 500
	suite := bigSuite(t, x.dir, n)
	p := startBinary(t, bin, x.dir, x, "run", "-j", "8", "-o", "report.jsonl", suite)
	time.Sleep(400 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(); code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, p.stderr.String())
	}
	partial := x.records("report.jsonl")
	if len(partial) == 0 || len(partial) >= n {
		t.Fatalf("%d lines after an interrupt", len(partial))
	}
	if x.openai.ChatCount() != len(partial) {
		t.Errorf("%d prompts answered but %d lines written: the items in flight were not finished", x.openai.ChatCount(), len(partial))
	}
	stderr := p.stderr.String()
	i := strings.Index(stderr, "to finish this run: ")
	if i < 0 {
		t.Fatalf("no resume command:\n%s", stderr)
	}
	line := strings.TrimSpace(strings.SplitN(stderr[i+len("to finish this run: "):], "\n", 2)[0])
	fields := strings.Fields(line)
	if fields[0] != "tracebatch" || !strings.Contains(line, "--resume") {
		t.Fatalf("resume command %q", line)
	}
	q := startBinary(t, bin, x.dir, x, fields[1:]...)
	if code := q.wait(); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, q.stderr.String())
	}
	recs := x.records("report.jsonl")
	if len(recs) != n {
		t.Fatalf("%d lines after the resume", len(recs))
	}
	if x.openai.ChatCount() != n || len(x.pangea.Duplicates()) != 0 {
		t.Errorf("%d model calls and %d repeated events for %d items", x.openai.ChatCount(), len(x.pangea.Duplicates()), n)
	}
}

// TestSecondInterruptAbandons sends SIGINT twice: the run ends at once with
// exit 130, and the report holds only whole lines.
func TestSecondInterruptAbandons(t *testing.T) {
	bin := buildBinary(t)
	x := newTB(t)
	x.openai.SetLatency(10*time.Second, 0)
	suite := bigSuite(t, x.dir, 50)
	p := startBinary(t, bin, x.dir, x, "run", "-j", "4", "-o", "report.jsonl", suite)
	time.Sleep(300 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(); code != exitInterrupted {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the second interrupt took %v to end the run", d)
	}
	x.records("report.jsonl") // every line parses
}
