package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/pangeacyber/pangea-go/pangea-sdk/v4/service/audit"
)

// TestEmptyAnswerKeepsStandardMessage checks that the Standard-schema event
// of an empty answer is sent with message "", which that schema requires,
// signed as sent, and recognised in an envelope; and that every other event
// is sent exactly as it encodes.
func TestEmptyAnswerKeepsStandardMessage(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := NewSigner(priv)
	c, err := NewClient(Config{Domain: "http://127.0.0.1:1", Token: "pts_test", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	empty := Format{Schema: StandardSchema}.Output("", Meta{Model: "m"})
	in, _ := Format{Schema: StandardSchema}.Input("<c>", "p", Meta{Actor: "a"})
	events := []Event{empty, in, Format{}.Output("", Meta{}), Format{}.Output("a <b>", Meta{})}
	body, err := c.bulkBody(events, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Events []struct {
			Event     json.RawMessage `json:"event"`
			Signature string          `json:"signature"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(req.Events[0].Event, &got)
	if m, ok := got["message"]; !ok || m != "" {
		t.Errorf("Standard event of an empty answer sent as %s; want message \"\"", req.Events[0].Event)
	}
	if !sameEvent(empty, got) {
		t.Error("an envelope holding the empty answer's event as sent is not recognised")
	}
	// ed25519 is deterministic: signing the event as sent gives the same
	// signature if the signature covers exactly what was sent.
	resigned := &sdk.LogEvent{Event: got}
	if err := signer.sign(resigned); err != nil {
		t.Fatal(err)
	}
	if *resigned.Signature != req.Events[0].Signature {
		t.Error("the empty answer's event is not signed as it is sent")
	}
	for i, ev := range events[1:] {
		want, _ := json.Marshal(ev)
		if got := string(req.Events[i+1].Event); got != string(want) {
			t.Errorf("event sent as %s; want %s", got, want)
		}
	}
	if strings.Contains(string(req.Events[2].Event), "message") {
		t.Errorf("AI event of an empty answer sent as %s", req.Events[2].Event)
	}
	for i, e := range req.Events {
		if e.Signature == "" {
			t.Errorf("event %d unsigned", i)
		}
	}
}
