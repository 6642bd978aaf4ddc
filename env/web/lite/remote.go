package lite

import (
	"fmt"
	"io"
	"net/http"
)

// Remote returns a handler that sends every request the lite browser
// makes over the network with rt (http.DefaultTransport when nil), so that
// the lite browser reads a real site: lite.New(lite.Remote(nil), …). It
// follows no redirects (the browser does) and keeps no cookies (the
// browser's jar does).
func Remote(rt http.RoundTripper) http.Handler {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, scheme+"://"+r.Host+r.RequestURI, r.Body)
		if err != nil {
			http.Error(w, fmt.Sprintf("lite: %v", err), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		out.ContentLength = r.ContentLength
		resp, err := rt.RoundTrip(out)
		if err != nil {
			http.Error(w, fmt.Sprintf("lite: cannot reach %s: %v", out.URL.Redacted(), err), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, MaxBodyBytes+1))
	})
}
