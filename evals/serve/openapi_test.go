package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAPIDoc fetches and decodes GET /openapi.json.
func openAPIDoc(t *testing.T, base string) map[string]any {
	t.Helper()
	var doc map[string]any
	callOK(t, 200, "GET", base+"/openapi.json", nil, &doc)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi = %v, want 3.1.x", doc["openapi"])
	}
	return doc
}

// docRoutes lists the description's operations as "METHOD /path".
func docRoutes(doc map[string]any) []string {
	var out []string
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIRoutes: every route the server serves is in the
// description, and every operation of the description is served.
func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	s, hs, _, _ := fakeServer(t, Options{})
	doc := openAPIDoc(t, hs.URL)
	var table []string
	for _, rt := range s.routes() {
		table = append(table, rt.method+" "+rt.path)
	}
	slices.Sort(table)
	if got := docRoutes(doc); !slices.Equal(got, table) {
		t.Fatalf("the description's operations = %q, want the server's routes %q", got, table)
	}
	var sess Session
	callOK(t, 201, "POST", hs.URL+"/v1/sessions", nil, &sess)
	fill := strings.NewReplacer("{id}", sess.Session, "{n}", "0")
	paths := map[string]bool{}
	for _, op := range table {
		method, path, _ := strings.Cut(op, " ")
		paths[path] = true
		// Whatever the answer, it is the route's, not the mux's "no route".
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			documented := slices.Contains(table, m+" "+path)
			if documented && (m != method || m == "DELETE") {
				continue // its own turn; DELETE of the session comes last
			}
			code, out := call(t, m, hs.URL+fill.Replace(path), "{}")
			noRoute := code == http.StatusMethodNotAllowed || (code == http.StatusNotFound && strings.Contains(string(out), "no route"))
			if documented == noRoute {
				t.Errorf("%s %s = %d %s: documented %v, but served %v", m, path, code, out, documented, !noRoute)
			}
		}
	}
	for _, p := range []string{"/", "/v1", "/v1/sessions/x/y", "/v1/suite/x", "/openapi.yaml"} {
		code, out := call(t, "GET", hs.URL+p, nil)
		if code != http.StatusNotFound || !strings.Contains(string(out), "no route") {
			t.Errorf("GET %s = %d %s, want the 404 of no route", p, code, out)
		}
	}
	code, _ := call(t, "DELETE", hs.URL+"/v1/sessions/"+sess.Session, nil)
	if code != 200 {
		t.Errorf("DELETE = %d", code)
	}
}

// TestOpenAPIResponses checks answers of every route, errors included,
// against the description's schemas (types, required fields, nested
// objects and arrays), on the lite shop and the fake suite (images,
// env errors).
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	_, shop := shopLite(t, Options{})
	_, fake, _, _ := fakeServer(t, Options{MaxSessions: 2})
	doc := openAPIDoc(t, shop.URL)
	checked := map[string]bool{}
	check := func(base *httptest.Server, method, route, url string, body any) []byte {
		t.Helper()
		code, out := call(t, method, url, body)
		if err := validateResponse(doc, method, route, code, out); err != nil {
			t.Errorf("%s %s = %d %s: %v", method, url, code, clip(string(out), 300), err)
		}
		checked[fmt.Sprintf("%s %s %d", method, route, code)] = true
		return out
	}
	check(shop, "GET", "/openapi.json", shop.URL+"/openapi.json", nil)
	check(shop, "GET", "/v1/suite", shop.URL+"/v1/suite", nil)
	var sess Session
	_ = json.Unmarshal(check(shop, "POST", "/v1/sessions", shop.URL+"/v1/sessions", map[string]any{"index": 1}), &sess)
	sid := shop.URL + "/v1/sessions/" + sess.Session
	check(shop, "GET", "/v1/sessions/{id}", sid, nil)
	check(shop, "POST", "/v1/sessions/{id}/step", sid+"/step", map[string]any{"action": `fill("5", "usb cable")`})
	check(shop, "POST", "/v1/sessions/{id}/step", sid+"/step", map[string]any{"action": `click("999")`})
	check(shop, "POST", "/v1/sessions/{id}/step", sid+"/step", map[string]any{"action": `stop("")`})
	check(shop, "POST", "/v1/sessions/{id}/step", sid+"/step", map[string]any{"action": `stop("")`}) // 409
	check(shop, "POST", "/v1/sessions/{id}/step", sid+"/step", map[string]any{"action": `stop(`})    // 400
	check(shop, "POST", "/v1/sessions/{id}/reset", sid+"/reset", nil)
	check(shop, "GET", "/v1/sessions/{id}/images/{n}", sid+"/images/0", nil) // 404: lite has none
	check(shop, "DELETE", "/v1/sessions/{id}", sid, nil)
	check(shop, "DELETE", "/v1/sessions/{id}", sid, nil)                                                           // 410
	check(shop, "POST", "/v1/sessions/{id}/step", shop.URL+"/v1/sessions/x/step", map[string]any{"action": "x()"}) // 404

	var fs Session
	_ = json.Unmarshal(check(fake, "POST", "/v1/sessions", fake.URL+"/v1/sessions", nil), &fs)
	check(fake, "POST", "/v1/sessions", fake.URL+"/v1/sessions", nil)
	check(fake, "POST", "/v1/sessions", fake.URL+"/v1/sessions", nil) // 429
	fid := fake.URL + "/v1/sessions/" + fs.Session
	check(fake, "POST", "/v1/sessions/{id}/step", fid+"/step", map[string]any{"action": "snap()"})
	check(fake, "GET", "/v1/sessions/{id}/images/{n}", fid+"/images/0", nil)
	check(fake, "GET", "/v1/sessions/{id}", fid+"?images=base64", nil)
	check(fake, "POST", "/v1/sessions/{id}/reset", fid+"/reset", map[string]any{"task": "nope"})   // 400
	check(fake, "POST", "/v1/sessions/{id}/step", fid+"/step", map[string]any{"action": "fail()"}) // 502
	check(fake, "GET", "/v1/sessions/{id}", fid, nil)                                              // 410
	// The check is not vacuous: a step without its observation, or with a
	// reward that is not a number, does not fit.
	for _, bad := range []string{`{"action": "x()", "reward": 0, "terminated": false, "truncated": false, "reason": "", "info": {}, "steps": 1}`,
		`{"observation": {"text": "", "url": "", "title": "", "error": "", "state": [], "choices": [], "images": []}, "action": "x()", "reward": "1", "terminated": false, "truncated": false, "reason": "", "info": {}, "steps": 1}`} {
		if err := validateResponse(doc, "POST", "/v1/sessions/{id}/step", 200, []byte(bad)); err == nil {
			t.Errorf("the step %s fits the schema; want an error", bad)
		}
	}
	for _, want := range []string{"GET /v1/suite 200", "POST /v1/sessions 201", "POST /v1/sessions 429", "POST /v1/sessions/{id}/step 200",
		"POST /v1/sessions/{id}/step 409", "POST /v1/sessions/{id}/step 400", "POST /v1/sessions/{id}/step 502", "POST /v1/sessions/{id}/reset 200",
		"GET /v1/sessions/{id}/images/{n} 200", "GET /v1/sessions/{id}/images/{n} 404", "DELETE /v1/sessions/{id} 200", "GET /v1/sessions/{id} 410"} {
		if !checked[want] {
			t.Errorf("no %s was checked", want)
		}
	}
}

// validateResponse checks an answer against the description: the
// status is documented for the operation and a JSON body fits its
// schema.
func validateResponse(doc map[string]any, method, route string, code int, body []byte) error {
	item, ok := doc["paths"].(map[string]any)[route].(map[string]any)
	if !ok {
		return fmt.Errorf("no path %s in the description", route)
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return fmt.Errorf("no %s %s in the description", method, route)
	}
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(code)].(map[string]any)
	if !ok {
		return fmt.Errorf("status %d is not documented for %s %s", code, method, route)
	}
	content := resp["content"].(map[string]any)
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		if len(body) == 0 {
			return fmt.Errorf("an empty image")
		}
		return nil // an image
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("the body is not JSON: %v", err)
	}
	return validate(doc, media["schema"].(map[string]any), v, "$")
}

// validate checks v against a schema of the description: $ref, type,
// required, properties, items and additionalProperties.
func validate(doc map[string]any, schema map[string]any, v any, at string) error {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		def, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: no schema %s", at, ref)
		}
		return validate(doc, def, v, at)
	}
	typ, _ := schema["type"].(string)
	switch typ {
	case "":
		return nil
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s = %v: want an object", at, v)
		}
		for _, r := range asSlice(schema["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: the required field %q is missing", at, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		for k, x := range obj {
			p, ok := props[k].(map[string]any)
			if !ok {
				if extra == nil {
					if props != nil {
						return fmt.Errorf("%s: field %q is not in the schema", at, k)
					}
					continue
				}
				p = extra
			}
			if err := validate(doc, p, x, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s = %v: want an array", at, v)
		}
		items, _ := schema["items"].(map[string]any)
		for i, x := range arr {
			if err := validate(doc, items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s = %v: want a string", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s = %v: want a boolean", at, v)
		}
	case "number", "integer":
		f, ok := v.(float64)
		if !ok || (typ == "integer" && f != float64(int64(f))) {
			return fmt.Errorf("%s = %v: want a%s %s", at, v, map[bool]string{true: "n"}[typ == "integer"], typ)
		}
	default:
		return fmt.Errorf("%s: the schema's type %q is unknown to the test", at, typ)
	}
	return nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
