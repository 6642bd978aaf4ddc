package serve

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// route is one route of the server: the mux serves it and the OpenAPI
// description describes it, from this one table.
type route struct {
	method, path string // path as the mux and OpenAPI both write it: /v1/sessions/{id}
	id, summary  string
	doc          string
	body         reflect.Type // the request body, nil for none
	bodyOptional bool
	status       int          // the success status
	resp         reflect.Type // the success body; nil: an image
	errors       []int        // the error statuses
	query        []param
	handle       http.HandlerFunc
}

type param struct{ name, in, doc string }

var (
	idParam     = param{"id", "path", "the session's id, from POST /v1/sessions"}
	imagesQuery = param{"images", "query", "how the observation carries images: url (default), base64 or none"}
)

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// routes is the server's API.
func (s *Server) routes() []route {
	busy := []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusGone, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	return []route{
		{method: "GET", path: "/openapi.json", id: "openapi", summary: "This description of the API (OpenAPI 3.1)",
			status: 200, resp: typeOf[map[string]any](), handle: s.getOpenAPI},
		{method: "GET", path: "/v1/suite", id: "getSuite", summary: "The suite served: its tasks and actions",
			doc:    "The suite, split and engine, the task ids a session may reset on, and each action as a tool description (name, description, JSON schema of its arguments) with its text form.",
			status: 200, resp: typeOf[Suite](), handle: s.getSuite},
		{method: "POST", path: "/v1/sessions", id: "createSession", summary: "Open a session: a new env, reset on a task",
			doc:  "Makes an env of its own for the session and resets it on the task (by id or index; the first by default). The answer's observation is the first of the episode. At most max_sessions are open at once (429 past them).",
			body: typeOf[SessionRequest](), bodyOptional: true, status: 201, resp: typeOf[Session](), query: []param{imagesQuery},
			errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
			handle: s.createSession},
		{method: "GET", path: "/v1/sessions/{id}", id: "getSession", summary: "A session's task, episode and last observation",
			status: 200, resp: typeOf[Session](), query: []param{idParam, imagesQuery},
			errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusGone, http.StatusServiceUnavailable}, handle: s.getSession},
		{method: "DELETE", path: "/v1/sessions/{id}", id: "deleteSession", summary: "Close a session and its env",
			doc:    "Waits for a request in flight on the session, then closes its env. The id answers 410 afterwards.",
			status: 200, resp: typeOf[Closed](), query: []param{idParam},
			errors: []int{http.StatusNotFound, http.StatusGone, http.StatusBadGateway, http.StatusServiceUnavailable}, handle: s.deleteSession},
		{method: "POST", path: "/v1/sessions/{id}/reset", id: "resetSession", summary: "Start a new episode in the session's env",
			doc:  "Resets the session's env (the same browser) on the task, as Gymnasium's reset; allowed at any time.",
			body: typeOf[SessionRequest](), bodyOptional: true, status: 200, resp: typeOf[Session](), query: []param{idParam, imagesQuery},
			errors: busy, handle: s.resetSession},
		{method: "POST", path: "/v1/sessions/{id}/step", id: "step", summary: "Apply an action: Gymnasium's step",
			doc: "The action in pilot's grammar (action) or as a tool call (tool_call). A bad action (an unknown element id, a hidden element) is part of the episode: the observation's error says what was wrong. An action that does not parse, or a tool call of an unknown action or with bad arguments, is a 400 and the step is not taken. " +
				"A step after the episode ended is a 409; one while another request holds the session is a 409 too. An env's Go error (502, 504 past the step timeout) closes the session.",
			body: typeOf[StepRequest](), status: 200, resp: typeOf[Step](), query: []param{idParam, imagesQuery},
			errors: busy, handle: s.stepSession},
		{method: "GET", path: "/v1/sessions/{id}/images/{n}", id: "getImage", summary: "An image of the session's last observation",
			doc:    "The n-th image (from 0) of the last observation, as its MIME type says. The observation's image URLs carry obs=N: once the session has stepped past that observation the URL answers 410.",
			status: 200, query: []param{idParam, {"n", "path", "the image's index in the observation's images, from 0"}, {"obs", "query", "the observation the URL was made for"}},
			errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusGone, http.StatusServiceUnavailable}, handle: s.getImage},
	}
}

// typeDocs describe the schemas.
var typeDocs = map[string]string{
	"Suite":          "What the server serves.",
	"ActionSpec":     "An action as a tool for tool-calling models (name, description, parameters), with its text form.",
	"SessionRequest": "Which task to reset on; every field is optional (the first task by default). Unknown fields are refused.",
	"StepRequest":    "One action: action (pilot's grammar) or tool_call, not both. Unknown fields are refused.",
	"ToolCall":       "A tool call as a model sends it: {name, arguments} or OpenAI's {id, type, function: {name, arguments}}; arguments are a JSON object or a string that holds one.",
	"ToolFunction":   "The function of an OpenAI tool call.",
	"Task":           "The task of an episode, as the client sees it (not its expected answer).",
	"Observation":    "What the agent sees after a reset or a step.",
	"Image":          "An image of an observation: a URL (valid until the next step or reset) or its bytes in base64.",
	"Session":        "A session and its episode's last observation.",
	"Step":           "The result of one step.",
	"Closed":         "A closed session.",
	"Error":          "Every error's body.",
}

// schemaGen makes JSON schemas of Go types, named structs as components.
type schemaGen struct{ defs map[string]any }

var rawType = reflect.TypeFor[json.RawMessage]()

func (g *schemaGen) of(t reflect.Type) map[string]any {
	if t == rawType {
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		m := map[string]any{"type": "object"}
		if t.Elem().Kind() != reflect.Interface {
			m["additionalProperties"] = g.of(t.Elem())
		}
		return m
	case reflect.Struct:
		name := t.Name()
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = nil // taken, for recursive types
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object is a struct's schema: a property per JSON field, required
// unless omitempty.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := g.of(f.Type)
		if d := f.Tag.Get("doc"); d != "" {
			p = withDoc(p, d)
		}
		props[name] = p
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	m := map[string]any{"type": "object", "properties": props, "required": required}
	if d := typeDocs[t.Name()]; d != "" {
		m["description"] = d
	}
	return m
}

func withDoc(p map[string]any, doc string) map[string]any {
	q := map[string]any{"description": doc}
	for k, v := range p {
		q[k] = v
	}
	return q
}

// openAPI is the OpenAPI 3.1 description of the routes.
func (s *Server) openAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	errRef := g.of(typeOf[Error]())
	paths := map[string]any{}
	for _, rt := range s.routes() {
		op := map[string]any{"operationId": rt.id, "summary": rt.summary}
		if rt.doc != "" {
			op["description"] = rt.doc
		}
		var params []any
		for _, p := range rt.query {
			pm := map[string]any{"name": p.name, "in": p.in, "description": p.doc, "schema": map[string]any{"type": "string"}}
			if p.in == "path" {
				pm["required"] = true
			}
			params = append(params, pm)
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.body != nil {
			op["requestBody"] = map[string]any{
				"required": !rt.bodyOptional,
				"content":  map[string]any{"application/json": map[string]any{"schema": g.of(rt.body)}},
			}
		}
		var ok map[string]any
		if rt.resp != nil {
			ok = map[string]any{"description": http.StatusText(rt.status), "content": map[string]any{"application/json": map[string]any{"schema": g.of(rt.resp)}}}
		} else {
			bin := map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
			ok = map[string]any{"description": "the image", "content": map[string]any{"image/png": bin, "image/jpeg": bin}}
		}
		resps := map[string]any{strconv.Itoa(rt.status): ok}
		for _, code := range append([]int{http.StatusForbidden}, rt.errors...) {
			resps[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code) + errorDocs[code],
				"content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
		}
		op["responses"] = resps
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "pilot serve: " + s.suite.Suite,
			"version":     "1",
			"description": "The envs of pilot's suite " + s.suite.Suite + " (engine " + s.suite.Engine + ") over HTTP: open a session (one env, reset on a task), step it, close it. Errors are {\"error\": \"...\"} with what to do.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": g.defs},
	}
}

// errorDocs say when each error status comes.
var errorDocs = map[int]string{
	http.StatusBadRequest:            ": the body or a parameter is wrong (malformed JSON, an unknown field, an action that does not parse, an unknown task); nothing was done",
	http.StatusForbidden:             ": the request is not addressed to a loopback host",
	http.StatusNotFound:              ": no such session (or image)",
	http.StatusConflict:              ": the session is busy with another request, or its episode is over",
	http.StatusGone:                  ": the session expired, was closed, or its env failed; or the image is of an earlier observation",
	http.StatusRequestEntityTooLarge: ": the body is too large",
	http.StatusUnsupportedMediaType:  ": the body is not sent as application/json",
	http.StatusTooManyRequests:       ": max_sessions are open",
	http.StatusBadGateway:            ": the env failed (a Go error): the session is closed",
	http.StatusServiceUnavailable:    ": the server is stopping",
	http.StatusGatewayTimeout:        ": the env took longer than the step timeout: the session is closed",
}
