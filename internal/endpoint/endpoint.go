// Package endpoint parses the service addresses a user gives and refuses
// plaintext HTTP to anything but this machine, unless the user insists.
package endpoint

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Parse reads raw as an absolute http or https URL. A plaintext http URL is
// accepted only for a loopback host (localhost, 127.0.0.0/8, ::1) or when
// insecure is true, so that tokens never cross a network in the clear by
// accident. The error names flag, the option the value came from.
func Parse(flag, raw string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%s: %q is not an http(s) URL such as https://host:port/path", flag, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: put credentials in their own flags, not in the URL", flag)
	}
	if u.Scheme == "http" && !insecure && !Loopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: refusing plaintext http:// to %s, which is not this machine: use https, or pass --insecure if you really mean it", flag, u.Hostname())
	}
	return u, nil
}

// Loopback reports whether host names this machine.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NoRedirects is an http.Client CheckRedirect that follows none: neither
// API redirects, and following one could carry the token and the prompts
// to a scheme or host the user did not choose. The 3xx answer is returned
// as it is, and the caller reports it.
func NoRedirects(req *http.Request, via []*http.Request) error {
	return http.ErrUseLastResponse
}
