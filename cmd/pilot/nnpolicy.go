package main

import (
	"os"
	"slices"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/nn"
	"github.com/pilotkit/pilot/policy/ppo"
	"github.com/pilotkit/pilot/policy/shopnn"
)

// nnPolicyDef loads a trained policy for suite: "nn:reach" or "nn:shop"
// (shipped with pilot) or "nn:path/to/policy.nn" (pilot train's output,
// for cartpole, robot:reach or shop).
func nnPolicyDef(spec, suite string) (policyDef, error) {
	name := strings.TrimPrefix(spec, "nn:")
	isFile := false
	if _, statErr := os.Stat(name); statErr == nil || strings.ContainsAny(name, "/.") {
		isFile = true
	}
	want := strings.TrimSuffix(suite, "/")
	var bundle *nn.Bundle
	if isFile {
		b, err := nn.LoadBundle(name)
		if err != nil {
			return policyDef{}, usagef("--policy %s: %v", spec, err)
		}
		bundle = b
	}
	if bundle != nil && bundle.Meta["kind"] == "shop-scorer" || bundle == nil && name == "shop" {
		var m *shopnn.Model
		var err error
		if bundle != nil {
			m, _, err = shopnn.FromBundle(bundle, name)
		} else {
			m, _, err = shopnn.LoadShipped()
		}
		if err != nil {
			return policyDef{}, usagef("--policy %s: %v", spec, err)
		}
		if want != "shop" {
			return policyDef{}, usagef("--policy %s was trained on the shop, not suite %s", spec, suite)
		}
		return policyDef{name: spec, doc: "a trained candidate scorer", new: func(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
			return shopnn.NewAgent(m), nil
		}}, nil
	}
	var p *ppo.Policy
	var meta map[string]string
	var err error
	if bundle != nil {
		p, meta, err = ppo.FromBundle(bundle, name)
	} else {
		p, meta, err = ppo.LoadShipped(name)
	}
	if err != nil {
		if bundle == nil && !slices.Contains(ppo.Shipped(), name) {
			return policyDef{}, usagef("--policy %s: pilot ships no policy %q: it ships %s; or give the path of a weights file (pilot train's policy.nn)", spec, name, strings.Join(append(ppo.Shipped(), "shop"), ", "))
		}
		return policyDef{}, usagef("--policy %s: %v", spec, err)
	}
	if meta["env"] != want {
		return policyDef{}, usagef("--policy %s was trained on %q, not suite %s", spec, meta["env"], suite)
	}
	switch meta["env"] {
	case "robot:reach":
		return policyDef{name: spec, doc: "a trained network", new: func(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
			return ppo.ReachPolicy(p), nil
		}}, nil
	case "cartpole":
		return policyDef{name: spec, doc: "a trained network", new: func(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
			return cartPolePolicy(p), nil
		}}, nil
	}
	return policyDef{}, usagef("--policy %s: pilot eval plays trained policies on cartpole, robot:reach and shop only", spec)
}
