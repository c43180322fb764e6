// Package fakeapi provides in-process fakes of the two services tracebatch
// talks to, for tests and benchmarks: Pangea Secure Audit Log (Pangea) and an
// OpenAI-compatible API (OpenAI). They speak the real wire formats, inject
// faults chosen by a FaultPolicy, add latency, and record what they receive
// so that tests can assert invariants such as "nothing unaudited reaches the
// model", "each event accepted exactly once", "no bulk call over 1000
// events" and "connections reused".
//
// In a test:
//
//	p := fakeapi.StartPangea(t, "pts_token")
//	o := fakeapi.StartOpenAI(t, "sk-key")
//	p.SetFaults(fakeapi.OnPaths(fakeapi.FailFirst(2, fakeapi.Status503), "/v2/log"))
//	// point the code under test at p.URL() and o.BaseURL()
//
// From a standalone binary, mount Handler on any http.Server with ConnState
// as its ConnState hook, or call StartOn with a listener.
//
// The fakes use only the standard library; they do not share code with the
// clients they test.
package fakeapi
