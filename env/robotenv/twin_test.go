package robotenv

import (
	"math"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env"
)

// TestTwinFollows plays the expert on one env and has its twin follow
// every observation: the twin's observed state matches (joints to the
// encoder's step, the cube and whether it is held), through the grasp and
// the release.
func TestTwinFollows(t *testing.T) {
	real := newFastEnv(t, Pick)
	task := env.Task{Seed: 6}
	obs, err := real.Reset(t.Context(), task)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := real.Twin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if again, err := real.Twin(t.Context()); err != nil || again != tw {
		t.Fatalf("a second Twin() = %v, %v: want the same twin", again, err)
	}
	if err := tw.Follow(t.Context(), obs); err == nil {
		t.Fatal("Follow before the twin's Reset = nil, want an error")
	}
	if _, err := tw.Reset(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	names := StateNames(Pick)
	sawHeld := false
	for i := 0; ; i++ {
		if err := tw.Follow(t.Context(), obs); err != nil {
			t.Fatalf("Follow at step %d: %v", i, err)
		}
		snap, err := tw.Snapshot(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := snap.Observation().State
		for j, want := range obs.State {
			tol := 0.1 // degrees: an encoder step is 0.088°
			if j >= 6 {
				tol = 0.002 // metres
			}
			if math.Abs(got[j]-want) > tol {
				t.Errorf("step %d: the twin's %s = %.4f, the env's %.4f", i, names[j], got[j], want)
			}
		}
		sawHeld = sawHeld || obs.State[14] == 1
		a, err := Expert(Pick, obs)
		if err != nil {
			t.Fatal(err)
		}
		st, err := real.Step(t.Context(), a)
		if err != nil {
			t.Fatal(err)
		}
		if st.Done() {
			if st.Reason != "success" {
				t.Fatalf("the expert ended %q", st.Reason)
			}
			break
		}
		obs = st.Obs
	}
	if !sawHeld {
		t.Fatal("the expert never held the cube: the test saw no grasp to follow")
	}
	bad := obs
	bad.State = bad.State[:3]
	if err := tw.Follow(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "want 15") {
		t.Errorf("Follow of a short state = %v, want an error naming the 15 values", err)
	}
	bad.State = append([]float64(nil), obs.State...)
	bad.State[2] = math.NaN()
	if err := tw.Follow(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "elbow_flex") {
		t.Errorf("Follow of a NaN joint = %v, want an error naming elbow_flex", err)
	}
	real.Close()
	if _, err := tw.Snapshot(t.Context()); err == nil {
		t.Error("the twin still snapshots after its env closed, want it closed with it")
	}
}
