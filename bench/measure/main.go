// Command measure runs a command and reports what it cost: wall time, CPU
// time and peak resident memory, read from the kernel (wait4's rusage), with
// no dependency on GNU time.
//
//	measure -o out/run.env -- tracebatch run -j 100 suite.jsonl
//
// It writes KEY=VALUE lines (to -o, or to stderr):
//
//	exit=0            the command's exit code (-1: killed by a signal)
//	wall_s=5.214      elapsed time, start to exit
//	user_s=0.981      user CPU time of the command and its waited-for descendants
//	sys_s=0.402       system CPU time, likewise
//	cpu_s=1.383       user_s + sys_s
//	maxrss_kb=31232   ru_maxrss: the peak RSS of the largest single process
//	tree_rss_kb=31104 the peak of the summed RSS of the whole process tree, sampled
//	peak_rss_kb=31232 the larger of the two: what the tables call peak RSS
//	procs=1           processes seen in the tree
//
// ru_maxrss is exact but, for a tree of processes, it is the largest one's
// peak, not the sum; the sampled tree figure (every -interval, from
// /proc/PID/status and /proc/PID/task/TID/children) covers a tool that
// spawns workers, at the price of missing peaks shorter than the interval.
// The command inherits stdin, stdout and stderr; measure exits with the
// command's exit code.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("measure: ")
	out := flag.String("o", "", "write the figures to this file (default stderr)")
	interval := flag.Duration("interval", 20*time.Millisecond, "how often the process tree's RSS is sampled (0: not at all)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: measure [-o FILE] [-interval D] -- COMMAND [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}

	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl-C reaches the command through the terminal; measure catches it
	// (not ignores it: an ignored signal stays ignored across exec) and
	// waits for the command to end, to report anyway.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	stop := make(chan struct{})
	sampled := make(chan treeSample, 1)
	go func() { sampled <- sampleTree(cmd.Process.Pid, *interval, stop) }()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	tree := <-sampled

	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		log.Fatal(err)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var user, sys time.Duration
	var maxRSS int64
	if ru != nil {
		user = time.Duration(ru.Utime.Nano())
		sys = time.Duration(ru.Stime.Nano())
		maxRSS = ru.Maxrss // kilobytes on Linux
	}
	var b strings.Builder
	fmt.Fprintf(&b, "exit=%d\n", code)
	fmt.Fprintf(&b, "wall_s=%.3f\n", wall.Seconds())
	fmt.Fprintf(&b, "user_s=%.3f\n", user.Seconds())
	fmt.Fprintf(&b, "sys_s=%.3f\n", sys.Seconds())
	fmt.Fprintf(&b, "cpu_s=%.3f\n", (user + sys).Seconds())
	fmt.Fprintf(&b, "maxrss_kb=%d\n", maxRSS)
	fmt.Fprintf(&b, "tree_rss_kb=%d\n", tree.peakKB)
	fmt.Fprintf(&b, "peak_rss_kb=%d\n", max(maxRSS, tree.peakKB))
	fmt.Fprintf(&b, "procs=%d\n", max(tree.procs, 1))
	var w io.Writer = os.Stderr
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		log.Fatal(err)
	}
	if code < 0 {
		code = 128 + 9
	}
	os.Exit(code)
}

// treeSample is what sampling the process tree found.
type treeSample struct {
	peakKB int64 // the largest sum of VmRSS seen
	procs  int   // distinct processes seen
}

// sampleTree sums the RSS of root and its descendants every interval until
// stop is closed.
func sampleTree(root int, interval time.Duration, stop <-chan struct{}) treeSample {
	var s treeSample
	if interval <= 0 {
		<-stop
		return s
	}
	seen := map[int]bool{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var sum int64
		for _, pid := range descendants(root) {
			kb, ok := rssKB(pid)
			if !ok {
				continue
			}
			sum += kb
			seen[pid] = true
		}
		s.peakKB = max(s.peakKB, sum)
		s.procs = len(seen)
		select {
		case <-stop:
			return s
		case <-t.C:
		}
	}
}

// descendants returns root and every process below it, from the children
// files of each process's threads.
func descendants(root int) []int {
	all := []int{root}
	for i := 0; i < len(all); i++ {
		pid := all[i]
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			continue
		}
		for _, t := range tasks {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(data)) {
				if c, err := strconv.Atoi(f); err == nil {
					all = append(all, c)
				}
			}
		}
	}
	return all
}

// rssKB reads VmRSS of pid; false when the process is gone or a zombie.
func rssKB(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	_, rest, ok := bytes.Cut(data, []byte("\nVmRSS:"))
	if !ok {
		return 0, false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(line)), " kB"), 10, 64)
	return kb, err == nil
}
