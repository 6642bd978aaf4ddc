package main

import (
	"os"
	"strings"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
	"github.com/pilotkit/pilot/policy/ppo"
)

// nnPolicyDef loads a trained policy, "nn:reach" (shipped with pilot) or
// "nn:path/to/policy.nn" (pilot train's output), for suite.
func nnPolicyDef(spec, suite string) (policyDef, error) {
	name := strings.TrimPrefix(spec, "nn:")
	var p *ppo.Policy
	var meta map[string]string
	var err error
	if _, statErr := os.Stat(name); statErr == nil || strings.ContainsAny(name, "/.") {
		p, meta, err = ppo.LoadPolicy(name)
	} else {
		p, meta, err = ppo.LoadShipped(name)
	}
	if err != nil {
		return policyDef{}, usagef("--policy %s: %v", spec, err)
	}
	if want := strings.TrimSuffix(suite, "/"); meta["env"] != want {
		return policyDef{}, usagef("--policy %s was trained on %q, not suite %s", spec, meta["env"], suite)
	}
	if meta["env"] != "robot:reach" {
		return policyDef{}, usagef("--policy %s: pilot eval plays trained policies on robot:reach only", spec)
	}
	return policyDef{name: spec, doc: "a trained network", new: func(*loadedSuite, *evalFlags, env.Task) (policy.Policy, error) {
		return ppo.ReachPolicy(p), nil
	}}, nil
}
