package ppo

import (
	"fmt"
	"strconv"

	"github.com/pilotkit/pilot/policy/nn"
)

// Save writes the policy (actor, critic, log std) to path with meta (the
// env's name, how it was trained).
func (p *Policy) Save(path string, meta map[string]string) error {
	b := &nn.Bundle{
		Meta:    map[string]string{"kind": "ppo-policy", "obs_size": strconv.Itoa(p.ObsSize), "discrete": strconv.Itoa(p.Space.Discrete), "dim": strconv.Itoa(p.Space.Dim)},
		Nets:    map[string]*nn.MLP{"actor": p.Actor, "critic": p.Critic},
		Vectors: map[string][]float64{},
	}
	for k, v := range meta {
		if _, taken := b.Meta[k]; !taken {
			b.Meta[k] = v
		}
	}
	if p.LogStd != nil {
		b.Vectors["log_std"] = p.LogStd
	}
	return nn.SaveBundle(path, b)
}

// LoadPolicy reads a policy that Save wrote, and its meta.
func LoadPolicy(path string) (*Policy, map[string]string, error) {
	b, err := nn.LoadBundle(path)
	if err != nil {
		return nil, nil, err
	}
	return FromBundle(b, path)
}

// fromBundle checks a bundle and makes the policy of it; path names it in
// errors.
// FromBundle unpacks a policy saved by Save from a bundle already read;
// path names its source in errors.
func FromBundle(b *nn.Bundle, path string) (*Policy, map[string]string, error) {
	var err error
	if b.Meta["kind"] != "ppo-policy" {
		return nil, nil, fmt.Errorf("%s is not a pilot policy (kind %q, want ppo-policy)", path, b.Meta["kind"])
	}
	atoi := func(k string) (int, error) {
		v, err := strconv.Atoi(b.Meta[k])
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s: meta %s = %q is not a size", path, k, b.Meta[k])
		}
		return v, nil
	}
	p := &Policy{Actor: b.Nets["actor"], Critic: b.Nets["critic"], LogStd: b.Vectors["log_std"]}
	if p.ObsSize, err = atoi("obs_size"); err != nil {
		return nil, nil, err
	}
	if p.Space.Discrete, err = atoi("discrete"); err != nil {
		return nil, nil, err
	}
	if p.Space.Dim, err = atoi("dim"); err != nil {
		return nil, nil, err
	}
	out := p.Space.Discrete + p.Space.Dim
	switch {
	case p.Actor == nil || p.Critic == nil:
		return nil, nil, fmt.Errorf("%s: the actor or the critic is missing", path)
	case (p.Space.Discrete > 0) == (p.Space.Dim > 0):
		return nil, nil, fmt.Errorf("%s: the action space is neither discrete nor continuous", path)
	case p.Actor.Sizes()[0] != p.ObsSize || p.Critic.Sizes()[0] != p.ObsSize:
		return nil, nil, fmt.Errorf("%s: the networks take %d and %d inputs, the policy %d", path, p.Actor.Sizes()[0], p.Critic.Sizes()[0], p.ObsSize)
	case p.Actor.Sizes()[len(p.Actor.Sizes())-1] != out || p.Critic.Sizes()[len(p.Critic.Sizes())-1] != 1:
		return nil, nil, fmt.Errorf("%s: the actor has %d outputs, want %d; the critic must have 1", path, p.Actor.Sizes()[len(p.Actor.Sizes())-1], out)
	case p.Space.Dim > 0 && len(p.LogStd) != p.Space.Dim:
		return nil, nil, fmt.Errorf("%s: log std has %d values, want %d", path, len(p.LogStd), p.Space.Dim)
	}
	return p, b.Meta, nil
}
