package ppo

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/pilotkit/pilot/policy/nn"
)

// Policies trained by pilot and shipped with it, by name: reach (the
// robot's reach task, `pilot train --env robot:reach --seed 1`).
//
//go:embed weights/*.nn
var shipped embed.FS

// Shipped returns the names of the policies shipped with pilot.
func Shipped() []string {
	entries, _ := shipped.ReadDir("weights")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".nn"))
	}
	sort.Strings(names)
	return names
}

// LoadShipped returns a policy shipped with pilot, by name.
func LoadShipped(name string) (*Policy, map[string]string, error) {
	b, err := shipped.ReadFile("weights/" + name + ".nn")
	if err != nil {
		return nil, nil, fmt.Errorf("no shipped policy %q: pilot ships %s; or give a file path", name, strings.Join(Shipped(), ", "))
	}
	bundle, err := nn.ReadBundle(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("shipped policy %s: %w", name, err)
	}
	return FromBundle(bundle, "shipped policy "+name)
}
