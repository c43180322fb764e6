package fakeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "pts_testtoken"

// pangeaAnswer is a decoded Pangea response.
type pangeaAnswer struct {
	HTTPStatus   int             `json:"-"`
	Header       http.Header     `json:"-"`
	RequestID    string          `json:"request_id"`
	RequestTime  string          `json:"request_time"`
	ResponseTime string          `json:"response_time"`
	Status       string          `json:"status"`
	Summary      string          `json:"summary"`
	Result       json.RawMessage `json:"result"`
}

// wireResult is a log result as a client decodes it.
type wireResult struct {
	Envelope         map[string]any `json:"envelope"`
	Hash             string         `json:"hash"`
	UnpublishedRoot  *string        `json:"unpublished_root"`
	MembershipProof  *string        `json:"membership_proof"`
	ConsistencyProof *[]string      `json:"consistency_proof"`
}

// do sends a request to the fake and decodes the answer.
func do(t *testing.T, client *http.Client, method, url, token string, body any) pangeaAnswer {
	t.Helper()
	a, err := tryDo(context.Background(), client, method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return a
}

// tryDo is do that returns transport and decoding errors.
func tryDo(ctx context.Context, client *http.Client, method, url, token string, body any) (pangeaAnswer, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return pangeaAnswer{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return pangeaAnswer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return pangeaAnswer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	a := pangeaAnswer{HTTPStatus: resp.StatusCode, Header: resp.Header}
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("decoding %q: %w", data, err)
	}
	return a, nil
}

// aiEvent returns an input event of the AI schema.
func aiEvent(prompt string) map[string]any {
	return map[string]any{
		"event_type":  "inference:user_prompt",
		"event_tools": "OpenAI",
		"event_input": `{"context":"<b>ctx</b> & more","prompt":"` + prompt + `"}`,
	}
}

// bulk returns a /v2/log body.
func bulk(verbose bool, events ...map[string]any) map[string]any {
	items := make([]map[string]any, len(events))
	for i, e := range events {
		items[i] = map[string]any{"event": e}
	}
	return map[string]any{"verbose": verbose, "events": items}
}

// results decodes the results of a /v2/log answer.
func results(t *testing.T, a pangeaAnswer) []wireResult {
	t.Helper()
	var r struct {
		Results []wireResult `json:"results"`
	}
	if err := json.Unmarshal(a.Result, &r); err != nil {
		t.Fatalf("decoding results %s: %v", a.Result, err)
	}
	return r.Results
}

// validationErrors decodes the errors of a 400 answer.
func validationErrors(t *testing.T, a pangeaAnswer) []ValidationError {
	t.Helper()
	if a.HTTPStatus != http.StatusBadRequest || a.Status != "ValidationError" {
		t.Fatalf("answer %d %q, want 400 ValidationError", a.HTTPStatus, a.Status)
	}
	var r validationResult
	if err := json.Unmarshal(a.Result, &r); err != nil {
		t.Fatalf("decoding errors %s: %v", a.Result, err)
	}
	return r.Errors
}

var requestIDPattern = regexp.MustCompile(`^prq_[a-z0-9]{32}$`)

func checkEnvelope(t *testing.T, a pangeaAnswer) {
	t.Helper()
	if !requestIDPattern.MatchString(a.RequestID) {
		t.Errorf("request_id %q does not look like prq_<32 alnum>", a.RequestID)
	}
	for _, ts := range []string{a.RequestTime, a.ResponseTime} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") || len(ts) != len("2022-09-21T17:24:33.105Z") {
			t.Errorf("time %q is not RFC 3339 with milliseconds in UTC", ts)
		}
	}
}

func TestPangeaBulkLog(t *testing.T) {
	p := StartPangea(t, testToken)
	events := []map[string]any{aiEvent("one"), aiEvent("two"), aiEvent("three")}
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, events...))
	if a.HTTPStatus != 200 || a.Status != "Success" {
		t.Fatalf("answer %d %q %q", a.HTTPStatus, a.Status, a.Summary)
	}
	checkEnvelope(t, a)
	res := results(t, a)
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	got := p.Events()
	if len(got) != 3 {
		t.Fatalf("%d events recorded, want 3", len(got))
	}
	for i, r := range res {
		if len(r.Hash) != 64 || r.Envelope != nil || r.UnpublishedRoot != nil {
			t.Errorf("result %d = %+v, want only a hash", i, r)
		}
		e := got[i]
		if e.Hash != r.Hash || e.RequestID != a.RequestID || e.Index != i || e.Async {
			t.Errorf("event %d recorded as %+v", i, e)
		}
		if e.Event["event_input"] != events[i]["event_input"] {
			t.Errorf("event %d recorded %v, want %v", i, e.Event, events[i])
		}
		if p.TimesAccepted(events[i]) != 1 {
			t.Errorf("event %d accepted %d times", i, p.TimesAccepted(events[i]))
		}
	}
	if p.EventCount() != 3 || p.TreeSize() != 3 || len(p.Duplicates()) != 0 {
		t.Errorf("count %d, tree %d, duplicates %v", p.EventCount(), p.TreeSize(), p.Duplicates())
	}
	reqs := p.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v2/log" || reqs[0].Status != 200 || reqs[0].Events != 3 || reqs[0].Accepted != 3 || reqs[0].RequestID != a.RequestID {
		t.Errorf("requests %+v", reqs)
	}
}

func TestPangeaVerboseProofsVerify(t *testing.T) {
	p := StartPangea(t, testToken)
	var prevRoot string
	for call := range 4 {
		var events []map[string]any
		for i := range 5 + call {
			events = append(events, aiEvent(fmt.Sprintf("call %d event %d", call, i)))
		}
		body := bulk(true, events...)
		body["config_id"] = "pci_test"
		if call == 0 {
			// A signed event carries its signature and key into the envelope.
			items := body["events"].([]map[string]any)
			items[0]["signature"] = "c2lnbmF0dXJl"
			items[0]["public_key"] = `{"algorithm":"ED25519","key":"<pem>"}`
		}
		a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, body)
		res := results(t, a)
		if len(res) != len(events) {
			t.Fatalf("call %d: %d results, want %d", call, len(res), len(events))
		}
		for i, r := range res {
			if !sdkVerifyHash(r.Envelope, r.Hash) {
				t.Fatalf("call %d result %d: hash %s does not verify envelope %v", call, i, r.Hash, r.Envelope)
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000000Z", r.Envelope["received_at"].(string)); err != nil {
				t.Errorf("received_at: %v", err)
			}
			want, _ := Canonical(events[i])
			if got, _ := Canonical(r.Envelope["event"]); !bytes.Equal(got, want) {
				t.Errorf("envelope event %s, want %s", got, want)
			}
			if r.UnpublishedRoot == nil {
				t.Fatalf("call %d result %d: no unpublished_root", call, i)
			}
			root := *r.UnpublishedRoot
			first := call == 0 && i == 0
			if first {
				if r.MembershipProof != nil || r.ConsistencyProof != nil {
					t.Errorf("first event of the tree has proofs %v %v", r.MembershipProof, r.ConsistencyProof)
				}
			} else {
				ok, err := sdkVerifyMembershipProof(root, r.Hash, *r.MembershipProof)
				if err != nil || !ok {
					t.Errorf("call %d result %d: membership proof fails (%v)", call, i, err)
				}
				ok, err = sdkVerifyConsistencyProof(prevRoot, root, *r.ConsistencyProof)
				if err != nil || !ok {
					t.Errorf("call %d result %d: consistency proof from the previous root fails (%v)", call, i, err)
				}
			}
			prevRoot = root
		}
	}
	if prevRoot != p.Root() {
		t.Errorf("last unpublished root %s, tree root %s", prevRoot, p.Root())
	}
	ev := p.Events()[0]
	if ev.Signature != "c2lnbmF0dXJl" || !strings.Contains(ev.PublicKey, "ED25519") {
		t.Errorf("signature not recorded: %+v", ev)
	}
	if r := p.Requests()[0]; r.ConfigID != "pci_test" || !r.Verbose {
		t.Errorf("request recorded as %+v", r)
	}
}

func TestPangeaSingleLog(t *testing.T) {
	p := StartPangea(t, testToken)
	var roots []string
	for i := range 3 {
		a := do(t, p.Client(), "POST", p.URL()+"/v1/log", testToken, map[string]any{"event": aiEvent(fmt.Sprint(i)), "verbose": true})
		if a.HTTPStatus != 200 {
			t.Fatalf("answer %d %s", a.HTTPStatus, a.Result)
		}
		var r wireResult
		if err := json.Unmarshal(a.Result, &r); err != nil {
			t.Fatal(err)
		}
		if !sdkVerifyHash(r.Envelope, r.Hash) {
			t.Fatalf("hash does not verify")
		}
		roots = append(roots, *r.UnpublishedRoot)
	}
	// prev_root two sizes back gives a proof from that size.
	a := do(t, p.Client(), "POST", p.URL()+"/v1/log", testToken, map[string]any{"event": aiEvent("3"), "verbose": true, "prev_root": roots[0]})
	var r wireResult
	if err := json.Unmarshal(a.Result, &r); err != nil {
		t.Fatal(err)
	}
	if ok, err := sdkVerifyConsistencyProof(roots[0], *r.UnpublishedRoot, *r.ConsistencyProof); err != nil || !ok {
		t.Errorf("consistency proof from prev_root fails (%v)", err)
	}
	// /v1/log allows no other properties.
	a = do(t, p.Client(), "POST", p.URL()+"/v1/log", testToken, map[string]any{"event": aiEvent("x"), "extra": 1})
	errs := validationErrors(t, a)
	if len(errs) != 1 || errs[0].Code != "UnexpectedProperty" || errs[0].Source != "/extra" {
		t.Errorf("errors %+v", errs)
	}
	// Schema errors point into /event.
	a = do(t, p.Client(), "POST", p.URL()+"/v1/log", testToken, map[string]any{"event": map[string]any{"event_input": "x"}})
	errs = validationErrors(t, a)
	if len(errs) != 1 || errs[0].Code != "FieldRequired" || errs[0].Source != "/event/event_type" {
		t.Errorf("errors %+v", errs)
	}
	if p.EventCount() != 4 {
		t.Errorf("%d events accepted, want 4", p.EventCount())
	}
}

func TestPangeaValidation(t *testing.T) {
	p := StartPangea(t, testToken)
	long := strings.Repeat("é", 32767)
	tests := []struct {
		name   string
		body   any
		code   string
		source string
	}{
		{"unknown field", bulk(false, aiEvent("a"), aiEvent("b"), aiEvent("c"), map[string]any{"event_type": "t", "foo": "x"}), "UnexpectedProperty", "/events/3/event/foo"},
		{"required field", bulk(false, map[string]any{"event_input": "x"}), "FieldRequired", "/events/0/event/event_type"},
		{"too long", bulk(false, map[string]any{"event_type": "t", "event_input": long}), "AboveMaxLength", "/events/0/event/event_input"},
		{"wrong type", bulk(false, map[string]any{"event_type": 5}), "InvalidString", "/events/0/event/event_type"},
		{"bad timestamp", bulk(false, map[string]any{"event_type": "t", "timestamp": "yesterday"}), "BadFormatDateTime", "/events/0/event/timestamp"},
		{"no events", map[string]any{"events": []any{}}, "BelowMinItems", "/events"},
		{"too many events", bulk(false, make([]map[string]any, 1001)...), "AboveMaxItems", "/events"},
		{"events missing", map[string]any{"verbose": true}, "FieldRequired", "/events"},
		{"event not an object", map[string]any{"events": []any{map[string]any{"event": "text"}}}, "InvalidObject", "/events/0/event"},
		{"item property", map[string]any{"events": []any{map[string]any{"event": aiEvent("a"), "extra": true}}}, "UnexpectedProperty", "/events/0/extra"},
		{"verbose type", map[string]any{"verbose": "yes", "events": []any{map[string]any{"event": aiEvent("a")}}}, "InvalidBool", "/verbose"},
		{"not json", "{", "InvalidObject", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, tt.body)
			checkEnvelope(t, a)
			errs := validationErrors(t, a)
			if len(errs) != 1 || errs[0].Code != tt.code || errs[0].Source != tt.source || errs[0].Detail == "" {
				t.Errorf("errors %+v, want one %s at %s", errs, tt.code, tt.source)
			}
		})
	}
	// Characters, not bytes, count: 32766 two-byte characters fit.
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, map[string]any{"event_type": "t", "event_input": long[2:]}))
	if a.HTTPStatus != 200 {
		t.Errorf("32766 characters: %d %s", a.HTTPStatus, a.Result)
	}

	// One error per bad event, and nothing of the call is recorded.
	before := p.EventCount()
	a = do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false,
		aiEvent("ok"), map[string]any{"event_type": "t", "foo": 1, "bar": 2}, aiEvent("ok2"), map[string]any{"event_input": 3}))
	errs := validationErrors(t, a)
	if len(errs) != 2 || errs[0].Source != "/events/1/event/bar" || errs[1].Source != "/events/3/event/event_type" {
		t.Errorf("errors %+v", errs)
	}
	if p.EventCount() != before || p.TimesAccepted(aiEvent("ok")) != 0 {
		t.Errorf("a refused call recorded events")
	}
	if p.MaxBatch() != 1001 {
		t.Errorf("MaxBatch %d, want 1001", p.MaxBatch())
	}
	var over bool
	for _, r := range p.Requests() {
		over = over || r.Events > MaxBulkEvents
	}
	if !over {
		t.Errorf("the oversized call is not in Requests")
	}
}

func TestPangeaRejector(t *testing.T) {
	p := StartPangea(t, testToken)
	p.SetRejector(RejectContaining("event_input", "poison"))
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("fine"), aiEvent("also fine"), aiEvent("poison pill")))
	errs := validationErrors(t, a)
	if len(errs) != 1 || errs[0].Source != "/events/2/event/event_input" || errs[0].Code != "BadFormat" {
		t.Fatalf("errors %+v", errs)
	}
	if p.EventCount() != 0 {
		t.Fatalf("events recorded from a refused call")
	}
	a = do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("fine"), aiEvent("also fine")))
	if a.HTTPStatus != 200 || p.EventCount() != 2 {
		t.Fatalf("retry without the bad event: %d, %d events", a.HTTPStatus, p.EventCount())
	}
	p.SetRejector(nil)
	a = do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("poison pill")))
	if a.HTTPStatus != 200 {
		t.Fatalf("rejector not removed: %d", a.HTTPStatus)
	}
}

func TestPangeaAuthAndRoutes(t *testing.T) {
	p := StartPangea(t, testToken)
	for _, token := range []string{"", "pts_wrong"} {
		a := do(t, p.Client(), "POST", p.URL()+"/v2/log", token, bulk(false, aiEvent("x")))
		if a.HTTPStatus != 401 || a.Status != "Unauthorized" {
			t.Errorf("token %q: %d %q", token, a.HTTPStatus, a.Status)
		}
		checkEnvelope(t, a)
	}
	a := do(t, p.Client(), "POST", p.URL()+"/v9/nothing", testToken, "{}")
	if a.HTTPStatus != 404 || a.Status != "NotFound" {
		t.Errorf("unknown path: %d %q", a.HTTPStatus, a.Status)
	}
	if p.EventCount() != 0 {
		t.Errorf("unauthorized events recorded")
	}
}

func TestPangeaSchema(t *testing.T) {
	p := StartPangea(t, testToken)
	a := do(t, p.Client(), "POST", p.URL()+"/v1/schema", testToken, map[string]any{"config_id": "pci_x"})
	if a.HTTPStatus != 200 || a.Status != "Success" {
		t.Fatalf("schema: %d %q", a.HTTPStatus, a.Status)
	}
	var s Schema
	if err := json.Unmarshal(a.Result, &s); err != nil {
		t.Fatal(err)
	}
	byID := map[string]SchemaField{}
	for _, f := range s.Fields {
		byID[f.ID] = f
	}
	if f := byID["event_type"]; !f.Required || f.Size != 64 || f.Type != "string" {
		t.Errorf("event_type = %+v", f)
	}
	if f := byID["event_input"]; f.Type != "string-unindexed" || f.Size != 32766 {
		t.Errorf("event_input = %+v", f)
	}
	if len(s.Fields) != 12 || !s.TamperProofing {
		t.Errorf("schema %+v", s)
	}

	if err := p.SetSchema(StandardSchema()); err != nil {
		t.Fatal(err)
	}
	a = do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("x")))
	if errs := validationErrors(t, a); errs[0].Code != "UnexpectedProperty" {
		t.Errorf("AI event under the Standard schema: %+v", errs)
	}
	a = do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, map[string]any{"message": "hello", "action": "ask"}))
	if a.HTTPStatus != 200 {
		t.Errorf("standard event: %d %s", a.HTTPStatus, a.Result)
	}
	if err := p.SetSchema(Schema{Fields: []SchemaField{{ID: "a"}, {ID: "a"}}}); err == nil {
		t.Errorf("a schema with a duplicate field was accepted")
	}

	p.SetSchemaForbidden(true)
	a = do(t, p.Client(), "POST", p.URL()+"/v1/schema", testToken, "{}")
	if a.HTTPStatus != 403 || a.Status != "Forbidden" {
		t.Errorf("forbidden schema: %d %q", a.HTTPStatus, a.Status)
	}
}

func TestPangeaAccepted202(t *testing.T) {
	p := StartPangea(t, testToken)
	p.SetPendingPolls(2)
	p.SetFaults(OnPaths(FailFirst(1, Accepted202), "/v2/log"))
	events := []map[string]any{aiEvent("a"), aiEvent("b")}
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(true, events...))
	if a.HTTPStatus != 202 || a.Status != "Accepted" {
		t.Fatalf("answer %d %q", a.HTTPStatus, a.Status)
	}
	var acc acceptedResult
	if err := json.Unmarshal(a.Result, &acc); err != nil || acc.Location != "/request/"+a.RequestID || acc.RetryCounter != 0 || acc.TTLMins <= 0 {
		t.Fatalf("accepted result %s (%v)", a.Result, err)
	}
	if p.EventCount() != 2 {
		t.Fatalf("%d events recorded at acceptance, want 2", p.EventCount())
	}
	for i := 1; i <= 2; i++ {
		poll := do(t, p.Client(), "GET", p.URL()+acc.Location, testToken, nil)
		var pr acceptedResult
		_ = json.Unmarshal(poll.Result, &pr)
		if poll.HTTPStatus != 202 || poll.Status != "Accepted" || pr.RetryCounter != i || poll.RequestID != a.RequestID {
			t.Fatalf("poll %d: %d %q %s", i, poll.HTTPStatus, poll.Status, poll.Result)
		}
	}
	final := do(t, p.Client(), "GET", p.URL()+acc.Location, testToken, nil)
	if final.HTTPStatus != 200 || final.Status != "Success" || final.RequestID != a.RequestID {
		t.Fatalf("final poll: %d %q %s", final.HTTPStatus, final.Status, final.RequestID)
	}
	res := results(t, final)
	recorded := p.EventsByHash()
	for i, r := range res {
		if e, ok := recorded[r.Hash]; !ok || e.RequestID != a.RequestID || !sdkVerifyHash(r.Envelope, r.Hash) {
			t.Errorf("result %d (%s) does not match a recorded event", i, r.Hash)
		}
	}
	// Polling again gives the same result, and nothing is recorded twice.
	again := do(t, p.Client(), "GET", p.URL()+acc.Location, testToken, nil)
	if again.HTTPStatus != 200 || p.EventCount() != 2 || len(p.Duplicates()) != 0 {
		t.Errorf("second fetch: %d, %d events", again.HTTPStatus, p.EventCount())
	}
	missing := do(t, p.Client(), "GET", p.URL()+"/request/prq_unknown", testToken, nil)
	if missing.HTTPStatus != 404 {
		t.Errorf("unknown request: %d", missing.HTTPStatus)
	}
}

func TestPangeaLogAsync(t *testing.T) {
	p := StartPangea(t, testToken)
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log_async", testToken, bulk(false, aiEvent("a"), aiEvent("b")))
	if a.HTTPStatus != 202 || a.Status != "Accepted" {
		t.Fatalf("answer %d %q", a.HTTPStatus, a.Status)
	}
	evs := p.Events()
	if len(evs) != 2 || !evs[0].Async || evs[0].RequestID != a.RequestID {
		t.Fatalf("events %+v", evs)
	}
	final := do(t, p.Client(), "GET", p.URL()+"/request/"+a.RequestID, testToken, nil)
	res := results(t, final)
	if final.HTTPStatus != 200 || len(res) != 2 || res[0].Hash != evs[0].Hash || res[1].Hash != evs[1].Hash {
		t.Fatalf("result %d %s", final.HTTPStatus, final.Result)
	}
}

func TestPangeaShortResults(t *testing.T) {
	p := StartPangea(t, testToken)
	p.SetFaults(Always(ShortResults))
	events := []map[string]any{aiEvent("a"), aiEvent("b"), aiEvent("c")}
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(true, events...))
	res := results(t, a)
	if a.HTTPStatus != 200 || len(res) != 2 {
		t.Fatalf("answer %d with %d results, want 200 with 2", a.HTTPStatus, len(res))
	}
	if p.TimesAccepted(events[0]) != 1 || p.TimesAccepted(events[1]) != 1 || p.TimesAccepted(events[2]) != 0 {
		t.Errorf("accepted %d %d %d, want 1 1 0", p.TimesAccepted(events[0]), p.TimesAccepted(events[1]), p.TimesAccepted(events[2]))
	}
	if r := p.Requests()[0]; r.Events != 3 || r.Accepted != 2 || r.Fault != ShortResults {
		t.Errorf("request %+v", r)
	}
}

func TestPangeaErrorFaults(t *testing.T) {
	p := StartPangea(t, testToken)
	params := DefaultFaultParams()
	params.RetryAfter429 = 2500 * time.Millisecond
	params.RetryAfter503 = time.Second
	p.SetFaultParams(params)
	p.SetFaults(Sequence(Status429, Status500, Status503))
	for _, want := range []struct {
		code       int
		status     string
		retryAfter string
	}{{429, "TooManyRequests", "3"}, {500, "InternalError", ""}, {503, "ServiceUnavailable", "1"}} {
		a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("x")))
		if a.HTTPStatus != want.code || a.Status != want.status || a.Header.Get("Retry-After") != want.retryAfter || string(a.Result) != "null" {
			t.Errorf("answer %d %q Retry-After %q result %s, want %d %q %q", a.HTTPStatus, a.Status, a.Header.Get("Retry-After"), a.Result, want.code, want.status, want.retryAfter)
		}
		checkEnvelope(t, a)
	}
	if p.EventCount() != 0 {
		t.Errorf("events recorded from failed calls")
	}
	a := do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("x")))
	if a.HTTPStatus != 200 || p.EventCount() != 1 {
		t.Errorf("after the sequence: %d, %d events", a.HTTPStatus, p.EventCount())
	}
	var faults []Fault
	for _, r := range p.Requests() {
		faults = append(faults, r.Fault)
	}
	if fmt.Sprint(faults) != "[Status429 Status500 Status503 NoFault]" {
		t.Errorf("recorded faults %v", faults)
	}
}

func TestPangeaConnectionFaults(t *testing.T) {
	p := StartPangea(t, testToken)
	post := func(ctx context.Context) (pangeaAnswer, error) {
		return tryDo(ctx, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("x")))
	}

	p.SetFaults(Always(Drop))
	if _, err := post(context.Background()); err == nil {
		t.Errorf("Drop: no error")
	}
	if p.EventCount() != 0 {
		t.Errorf("Drop recorded events")
	}

	p.SetFaults(Always(Malformed))
	a, err := post(context.Background())
	if err == nil || a.HTTPStatus != 200 {
		t.Errorf("Malformed: status %d, error %v", a.HTTPStatus, err)
	}
	if p.EventCount() != 1 {
		t.Errorf("Malformed: %d events recorded, want 1 (the server accepted them)", p.EventCount())
	}

	p.SetFaults(Always(DropMidStream))
	_, err = post(context.Background())
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("DropMidStream: error %v, want unexpected EOF", err)
	}
	if p.EventCount() != 2 {
		t.Errorf("DropMidStream: %d events recorded, want 2", p.EventCount())
	}

	p.SetFaults(Always(Timeout))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = post(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Timeout: error %v", err)
	}

	params := DefaultFaultParams()
	params.SlowDelay = 80 * time.Millisecond
	p.SetFaultParams(params)
	p.SetFaults(Always(Slow))
	start := time.Now()
	if a, err := post(context.Background()); err != nil || a.HTTPStatus != 200 || time.Since(start) < 80*time.Millisecond {
		t.Errorf("Slow: %d %v after %v", a.HTTPStatus, err, time.Since(start))
	}
	if p.EventCount() != 3 {
		t.Errorf("%d events, want 3", p.EventCount())
	}

	var statuses []int
	for _, r := range p.Requests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[0 200 200 0 200]" {
		t.Errorf("recorded statuses %v", statuses)
	}
}

func TestPangeaTimeoutReleasedByClose(t *testing.T) {
	p := NewPangea(testToken)
	p.Start()
	p.SetFaults(Always(Timeout))
	done := make(chan error, 1)
	go func() {
		_, err := tryDo(context.Background(), p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("x")))
		done <- err
	}()
	for p.Stats().InFlight == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a Timeout handler")
	}
	if err := <-done; err == nil {
		t.Errorf("the client got an answer")
	}
}

func TestPangeaDuplicatesAndRetention(t *testing.T) {
	p := StartPangea(t, testToken)
	ev := aiEvent("same")
	for range 2 {
		do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, ev))
	}
	canon, _ := Canonical(ev)
	if d := p.Duplicates(); d[string(canon)] != 2 || len(d) != 1 {
		t.Errorf("duplicates %v", d)
	}
	if c := p.AcceptCounts(); c[string(canon)] != 2 {
		t.Errorf("accept counts %v", c)
	}
	evs := p.Events()
	if evs[0].Hash == evs[1].Hash {
		t.Errorf("identical events received at different times share a hash")
	}

	p.SetRetention(RetainCounts)
	do(t, p.Client(), "POST", p.URL()+"/v2/log", testToken, bulk(false, aiEvent("new")))
	if len(p.Events()) != 2 || len(p.Requests()) != 2 || p.EventCount() != 3 || p.TreeSize() != 3 {
		t.Errorf("RetainCounts kept %d events, %d requests; counted %d, tree %d", len(p.Events()), len(p.Requests()), p.EventCount(), p.TreeSize())
	}
}

func TestPangeaConcurrentTraffic(t *testing.T) {
	p := StartPangea(t, testToken)
	p.SetLatency(2*time.Millisecond, 3*time.Millisecond)
	p.SetFaults(FailRandom(7, 0.2, Status429, Status500, Status503))
	const workers, calls, per = 8, 10, 50
	// The default transport keeps only 2 idle connections per host.
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for c := range calls {
				var events []map[string]any
				for i := range per {
					events = append(events, aiEvent(fmt.Sprintf("w%d c%d e%d", w, c, i)))
				}
				for {
					a, err := tryDo(context.Background(), client, "POST", p.URL()+"/v2/log", testToken, bulk(c%2 == 0, events...))
					if err != nil {
						t.Error(err)
						return
					}
					if a.HTTPStatus == 200 {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if p.EventCount() != workers*calls*per || len(p.Duplicates()) != 0 {
		t.Errorf("%d events, %d duplicates", p.EventCount(), len(p.Duplicates()))
	}
	if len(p.EventsByHash()) != workers*calls*per {
		t.Errorf("hashes are not unique")
	}
	st := p.Stats()
	// Connections are reused: a few more than workers may be dialed while a
	// finished one is on its way back to the idle pool.
	if st.ConnsOpened > 2*workers || st.MaxInFlight < 2 || st.MaxInFlight > workers || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}
	var failed int
	for _, r := range p.Requests() {
		if r.Fault != NoFault {
			failed++
			if r.Accepted != 0 {
				t.Errorf("a failed call accepted events: %+v", r)
			}
		}
	}
	if failed == 0 || st.Requests != int64(workers*calls+failed) {
		t.Errorf("%d failed calls, %d requests", failed, st.Requests)
	}
}

func TestPangeaMountedHandler(t *testing.T) {
	p := NewPangea(testToken)
	defer p.Close()
	srv := &http.Server{Handler: p.Handler(), ConnState: p.ConnState}
	_ = srv // a benchmark binary would call srv.ListenAndServe
	rec := newRecorder()
	body, _ := json.Marshal(bulk(false, aiEvent("x")))
	req, _ := http.NewRequest("POST", "/v2/log", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	p.Handler().ServeHTTP(rec, req)
	if rec.status != 200 || p.EventCount() != 1 {
		t.Errorf("status %d, %d events", rec.status, p.EventCount())
	}
	if p.URL() != "" {
		t.Errorf("URL of a fake that was not started: %q", p.URL())
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}

func TestEnvelopeBytesMatchJSONMarshal(t *testing.T) {
	sig, pk := "sig+/=", `{"key":"-----BEGIN <x>-----"}`
	for _, ev := range []map[string]any{
		{"event_input": "<script>&\u2028\u2029\"\\\n\t\x01é😀", "n": 1.5e21, "z": nil, "list": []any{1.0, "a"}},
		{"message": "plain"},
	} {
		canon, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, withSig := range []bool{false, true} {
			env := map[string]any{"event": ev, "received_at": "2026-12-04T19:40:00.123456Z"}
			var buf bytes.Buffer
			if withSig {
				env["signature"], env["public_key"] = sig, pk
				writeEnvelope(&buf, canon, &sig, &pk, []byte(`"2026-12-04T19:40:00.123456Z"`))
			} else {
				writeEnvelope(&buf, canon, nil, nil, []byte(`"2026-12-04T19:40:00.123456Z"`))
			}
			want, _ := json.Marshal(env)
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("envelope\n%s\nwant\n%s", buf.Bytes(), want)
			}
		}
	}
}

func BenchmarkPangeaBulk(b *testing.B) {
	p := NewPangea(testToken)
	defer p.Close()
	p.SetRetention(RetainCounts)
	var events []map[string]any
	for i := range MaxBulkEvents {
		events = append(events, aiEvent(fmt.Sprintf("prompt number %d with some text", i)))
	}
	body, _ := json.Marshal(bulk(false, events...))
	h := p.Handler()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req, _ := http.NewRequest("POST", "/v2/log", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if rec.status != 200 {
			b.Fatalf("status %d: %s", rec.status, rec.body.Bytes())
		}
	}
	b.ReportMetric(float64(b.N*MaxBulkEvents)/b.Elapsed().Seconds(), "events/s")
}
