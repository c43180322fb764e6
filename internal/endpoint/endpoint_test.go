package endpoint

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		raw      string
		insecure bool
		err      string
	}{
		{"https://audit.aws.us.pangea.cloud", false, ""},
		{"http://127.0.0.1:8080", false, ""},
		{"http://[::1]:8080/v1", false, ""},
		{"http://localhost:11434/v1", false, ""},
		{"http://gpu-box:11434/v1", false, "refusing plaintext"},
		{"http://10.0.0.7/v1", false, "refusing plaintext"},
		{"http://gpu-box:11434/v1", true, ""},
		{"ftp://host", false, "not an http(s) URL"},
		{"127.0.0.1:8080", false, "not an http(s) URL"},
		{"https://user:secret@host", false, "credentials"},
	}
	for _, c := range cases {
		_, err := Parse("--x", c.raw, c.insecure)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.raw, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got %v, want an error containing %q", c.raw, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error repeats the credentials: %v", c.raw, err)
		}
	}
}

func TestNoRedirectsHandsBackTheAnswer(t *testing.T) {
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		t.Errorf("a redirect was followed, with Authorization %q", r.Header.Get("Authorization"))
	}))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusPermanentRedirect))
	defer redirect.Close()
	c := &http.Client{CheckRedirect: NoRedirects}
	req, _ := http.NewRequest(http.MethodPost, redirect.URL, strings.NewReader("secret prompt"))
	req.Header.Set("Authorization", "Bearer pts_secret")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || hits.Load() != 0 {
		t.Fatalf("status %d, %d requests to the redirect's target", resp.StatusCode, hits.Load())
	}
}
