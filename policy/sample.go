package policy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// Candidate is one action among several sampled, with how often it came.
type Candidate struct {
	Action env.Action
	Count  int
	// Prob is Count over the valid answers: a prior for a planner.
	Prob    float64
	Thought string
}

// Candidates samples k answers for in (n = k in one call where the
// provider allows it, more calls where it returns fewer) and returns the
// distinct valid actions, most frequent first. Invalid answers are
// dropped and counted in the returned invalid. Temperature defaults to 1
// for sampling.
func (p *LLMPolicy) Candidates(ctx context.Context, in Input, k int) (cands []Candidate, invalid int, u Usage, err error) {
	if k < 1 || k > 64 {
		return nil, 0, u, fmt.Errorf("candidates: k = %d, want 1..64", k)
	}
	msgs, _ := p.Prompt(in)
	req := p.request(in.Spec, msgs, k)
	if req.Temperature == nil {
		one := 1.0
		req.Temperature = &one
	}
	byText := map[string]*Candidate{}
	var order []string
	valid := 0
	got := 0
	for calls := 0; got < k && calls < k; calls++ {
		req.N = k - got
		resp, err := p.generate(ctx, &req, map[string]any{})
		if resp != nil {
			u = u.Add(resp.Usage)
		}
		if err != nil {
			return nil, invalid, u, fmt.Errorf("model %s: %w", p.info, err)
		}
		if len(resp.Choices) == 0 {
			return nil, invalid, u, fmt.Errorf("model %s: %w: no choices", p.info, ErrBadResponse)
		}
		for _, c := range resp.Choices {
			got++
			a, thought, err := p.parseChoice(in.Spec, c)
			if err != nil {
				invalid++
				continue
			}
			valid++
			key := a.String()
			if cand, ok := byText[key]; ok {
				cand.Count++
				continue
			}
			byText[key] = &Candidate{Action: a, Count: 1, Thought: thought}
			order = append(order, key)
		}
	}
	for _, key := range order {
		c := *byText[key]
		c.Prob = float64(c.Count) / float64(valid)
		cands = append(cands, c)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Count > cands[j].Count })
	return cands, invalid, u, nil
}

// Verdict statuses of Judge, after Koh et al.'s value function for web
// agents (tree search for language model agents, 2024).
const (
	StatusSuccess = "success"
	StatusOnTrack = "on track"
	StatusFailure = "failure"
)

// Verdict is a judge's reading of a state.
type Verdict struct {
	Status string  `json:"status"`
	Score  float64 `json:"score"` // success 1, on track 0.5, failure 0
	Reason string  `json:"reason"`
	Usage  Usage   `json:"usage"`
	Answer string  `json:"answer"` // the model's raw answer
}

// ErrNoVerdict is wrapped when a judge's answer holds no status.
var ErrNoVerdict = errors.New("no verdict in the answer")

// Judge asks m whether the episode in (its task, the actions so far and the
// current observation, with images when m takes them) has succeeded, is on
// track, or has failed: a value function for planners and a grader for
// evals.
func Judge(ctx context.Context, m Model, in Input, opts LLMOptions) (Verdict, error) {
	p := LLM(m, opts)
	var b strings.Builder
	b.WriteString("You judge the progress of an agent on a task. Read the task, the agent's actions so far and what it sees now.\n")
	b.WriteString("Say whether the task is already done (success), not done yet but the agent is on a reasonable path (on track), or failed: a wrong irreversible step, a dead end, or stuck repeating itself (failure).\n")
	b.WriteString("Give one or two sentences of reasons, then a last line exactly in one of these forms:\nStatus: success\nStatus: on track\nStatus: failure\n")
	user := p.userPrompt(in)
	parts := []Part{TextPart(user)}
	if p.useImages() {
		for _, img := range in.Obs.Images {
			if img.MIME != "" && len(img.Data) > 0 {
				parts = append(parts, ImagePart(img.MIME, img.Data))
			}
		}
	}
	req := Request{
		Messages:    []Message{{Role: RoleSystem, Parts: []Part{TextPart(b.String())}}, {Role: RoleUser, Parts: parts}},
		Temperature: opts.Temperature, Seed: opts.Seed, MaxTokens: p.opts.MaxTokens,
	}
	resp, err := p.generate(ctx, &req, map[string]any{})
	var v Verdict
	if resp != nil {
		v.Usage = resp.Usage
	}
	if err != nil {
		return v, fmt.Errorf("judge %s: %w", p.info, err)
	}
	if len(resp.Choices) == 0 {
		return v, fmt.Errorf("judge %s: %w: no choices", p.info, ErrBadResponse)
	}
	v.Answer = clipAnswer(resp.Choices[0].Text)
	status, reason, err := ParseVerdict(resp.Choices[0].Text)
	if err != nil {
		return v, fmt.Errorf("judge %s: %w", p.info, err)
	}
	v.Status, v.Reason = status, reason
	v.Score = map[string]float64{StatusSuccess: 1, StatusOnTrack: 0.5, StatusFailure: 0}[status]
	return v, nil
}

// ParseVerdict reads the last "Status: …" line of a judge's answer and the
// reasons before it.
func ParseVerdict(text string) (status, reason string, err error) {
	if len(text) > MaxAnswerLen {
		return "", "", fmt.Errorf("%w: the answer is %d bytes long", ErrNoVerdict, len(text))
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimLeft(strings.TrimSpace(lines[i]), "*_#>- ")
		if len(l) < 7 || !strings.EqualFold(l[:6], "status") {
			continue
		}
		l = strings.TrimLeft(l[6:], "*_ ")
		if !strings.HasPrefix(l, ":") {
			continue
		}
		v := strings.ToLower(strings.Trim(strings.TrimSpace(l[1:]), "*_`.\"' "))
		v = strings.ReplaceAll(strings.ReplaceAll(v, "_", " "), "-", " ")
		v = strings.Join(strings.Fields(v), " ")
		switch v {
		case StatusSuccess, StatusOnTrack, StatusFailure:
			return v, strings.TrimSpace(strings.Join(lines[:i], "\n")), nil
		case "failed", "fail":
			return StatusFailure, strings.TrimSpace(strings.Join(lines[:i], "\n")), nil
		case "succeeded", "done":
			return StatusSuccess, strings.TrimSpace(strings.Join(lines[:i], "\n")), nil
		}
		return "", "", fmt.Errorf("%w: status %q is not success, on track or failure", ErrNoVerdict, v)
	}
	return "", "", fmt.Errorf("%w: end it with a line such as Status: on track", ErrNoVerdict)
}
