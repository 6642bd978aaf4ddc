// Package cache makes an automation pay for its model once. Wrap a policy
// (a language model, usually) with New: when an episode succeeds, its
// steps are stored in a directory, keyed by the task and by each step's
// observation; a later episode of the same task replays the stored actions
// without calling the policy while its pages match, and asks the policy
// from the first step where a page differs (then stores the new episode,
// if it succeeds). Stagehand's action cache, for pilot's envs.
//
//	p, err := cache.New(model, "cache/")
//	traj, err := agent.Run(ctx, e, task, p, opts) // steps from the cache have Meta["cache"] == "hit"
//
// A page matches when its observation's text is the same, but for its URL
// (a session id, a site served on a random port), loopback hosts' ports in
// the text and the scroll position.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// Meta values of a decision's "cache" key.
const (
	Hit  = "hit"  // the action came from the cache: no policy call
	Miss = "miss" // the policy chose it
	Key  = "cache"
)

// Entry is one stored step: the digest of the observation the action was
// taken on, and the action.
type Entry struct {
	Obs    string `json:"obs"`
	Action string `json:"action"`
}

// File is a task's stored episode.
type File struct {
	Version int       `json:"version"`
	Task    string    `json:"task"` // the task's key text, for people reading the file
	Saved   time.Time `json:"saved"`
	Steps   []Entry   `json:"steps"`
}

const version = 1

// Policy replays stored actions and asks its inner policy for the rest.
// Like the policies it wraps, it plays one episode at a time.
type Policy struct {
	inner policy.Policy
	dir   string

	name     string // the task's file name
	keyText  string
	stored   []Entry
	cur      []Entry
	diverged bool
	hits     int
	loadErr  error
}

var (
	_ policy.Resetter = (*Policy)(nil)
	_ policy.Ender    = (*Policy)(nil)
	_ policy.EnvUser  = (*Policy)(nil)
)

// New returns inner behind the cache in dir, which it creates.
func New(inner policy.Policy, dir string) (*Policy, error) {
	if inner == nil {
		return nil, errors.New("cache: no policy to ask when the cache has no action")
	}
	if dir == "" {
		return nil, errors.New("cache: no directory: name one (it is created)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Policy{inner: inner, dir: dir}, nil
}

// UseEnv gives the env to an inner policy that looks ahead (a planner).
func (p *Policy) UseEnv(e env.Env) {
	if eu, ok := p.inner.(policy.EnvUser); ok {
		eu.UseEnv(e)
	}
}

// ResetEpisode loads the task's stored episode, if there is one.
func (p *Policy) ResetEpisode(task env.Task) {
	if r, ok := p.inner.(policy.Resetter); ok {
		r.ResetEpisode(task)
	}
	p.keyText = TaskKey(task)
	sum := sha256.Sum256([]byte(p.keyText))
	p.name = hex.EncodeToString(sum[:12]) + ".json"
	p.stored, p.cur, p.diverged, p.hits, p.loadErr = nil, nil, false, 0, nil
	b, err := os.ReadFile(filepath.Join(p.dir, p.name))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err == nil {
		var f File
		if err = json.Unmarshal(b, &f); err == nil && f.Version != version {
			err = fmt.Errorf("version %d, want %d", f.Version, version)
		}
		if err == nil {
			err = f.check()
		}
		if err == nil {
			p.stored = f.Steps
			return
		}
	}
	// A damaged file is not replayed: Act says so once and asks the policy.
	p.loadErr = fmt.Errorf("cache: %s: %w (the policy decides this episode, and a success replaces the file)", filepath.Join(p.dir, p.name), err)
}

func (f *File) check() error {
	for i, s := range f.Steps {
		if len(s.Obs) != 64 {
			return fmt.Errorf("step %d: obs %q is not a SHA-256 digest", i, s.Obs)
		}
		if _, err := env.ParseAction(s.Action); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}

// Act replays the stored action when the page is the one it was taken on,
// and asks the inner policy otherwise (from then on, for the episode).
func (p *Policy) Act(ctx context.Context, in policy.Input) (policy.Decision, error) {
	d := Digest(in.Obs)
	i := len(p.cur)
	if !p.diverged && p.loadErr == nil && i < len(p.stored) && p.stored[i].Obs == d {
		a, err := env.ParseAction(p.stored[i].Action)
		if err == nil {
			p.cur = append(p.cur, Entry{Obs: d, Action: p.stored[i].Action})
			p.hits++
			return policy.Decision{Action: a, Thought: "replayed from the cache", Meta: map[string]any{Key: Hit}}, nil
		}
	}
	p.diverged = true
	dec, err := p.inner.Act(ctx, in)
	if err != nil {
		return dec, err
	}
	if dec.Meta == nil {
		dec.Meta = map[string]any{}
	}
	dec.Meta[Key] = Miss
	if p.loadErr != nil {
		dec.Meta["cache_error"] = p.loadErr.Error()
		p.loadErr = nil
		p.stored = nil
	}
	p.cur = append(p.cur, Entry{Obs: d, Action: dec.Action.String()})
	return dec, nil
}

// EndEpisode stores a successful episode that the cache did not wholly
// replay (one it replayed is stored already).
func (p *Policy) EndEpisode(ctx context.Context, success bool) error {
	if e, ok := p.inner.(policy.Ender); ok {
		if err := e.EndEpisode(ctx, success); err != nil {
			return err
		}
	}
	if !success || len(p.cur) == 0 || !p.diverged && len(p.cur) == len(p.stored) {
		return nil
	}
	b, err := json.MarshalIndent(File{Version: version, Task: p.keyText, Saved: time.Now().UTC().Truncate(time.Second), Steps: p.cur}, "", "  ")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(p.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: write %s: %w", p.name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(p.dir, p.name)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Path is the file of the current episode's task.
func (p *Policy) Path() string { return filepath.Join(p.dir, p.name) }

// Hits is how many actions of the episode came from the cache.
func (p *Policy) Hits() int { return p.hits }

// TaskKey is the text that names a task in the cache: its id, instruction
// and start URL (the host and port of a loopback URL left out).
func TaskKey(t env.Task) string {
	return fmt.Sprintf("id=%s\ninstruction=%s\nurl=%s", t.ID, t.Instruction, normURL(t.StartURL))
}

// normURL leaves out the host and port of a loopback URL: a site served
// for the episode on a random port is the same site.
func normURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	switch h := u.Hostname(); {
	case h == "127.0.0.1" || h == "localhost" || h == "::1":
		u.Host = "loopback"
	}
	return u.String()
}

var (
	reURLLine    = regexp.MustCompile(`(?m)^URL: (.*)$`)
	reScrollLine = regexp.MustCompile(`(?m)^Scroll: [0-9]+ of [0-9]+ px\n`)
	reLoopback   = regexp.MustCompile(`https?://(?:127\.0\.0\.1|localhost|\[::1\]):[0-9]+`)
)

// Digest is the SHA-256 of what a cached action depends on: the
// observation's text without its URL line and scroll position, loopback
// URLs in it without their port, and the state vector.
func Digest(o env.Observation) string {
	text := reScrollLine.ReplaceAllString(o.Text, "")
	// The URL is left out: the page's content is what the action depends
	// on, and a URL may carry a session or a port that changes every run.
	text = reURLLine.ReplaceAllString(text, "URL:")
	text = reLoopback.ReplaceAllString(text, "http://loopback")
	h := sha256.New()
	h.Write([]byte(text))
	for _, v := range o.State {
		fmt.Fprintf(h, "\x00%v", v)
	}
	return hex.EncodeToString(h.Sum(nil))
}
