package robotenv

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/envtest"
	"github.com/pilotkit/pilot/robot/sim"
)

// startSim runs a simulator on a real pseudo-terminal with its control
// server on 127.0.0.1, announced as `pilot robot sim` does, and returns
// the port's path.
func startSim(t *testing.T, opts sim.Options) (string, *sim.Sim) {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := s.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sim.ControlHandler(s)}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	unannounce, err := sim.Announce(p.Path(), "http://"+ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unannounce()
		srv.Close()
		<-done
		cancel()
		p.Close()
		s.Close()
	})
	return p.Path(), s
}

func TestExpertSolvesPickOverSerial(t *testing.T) {
	path, _ := startSim(t, sim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig, err := Dial(ctx, path, RigOptions{})
	if err != nil {
		t.Fatalf("Dial(%s): %v", path, err)
	}
	if rig.Scene == nil || rig.Camera == nil {
		t.Fatalf("Dial(%s) of a simulator: scene %v, camera %v, want both from its control server", path, rig.Scene, rig.Camera)
	}
	e, err := New(rig, Options{Task: Pick, Images: true})
	if err != nil {
		rig.Close()
		t.Fatal(err)
	}
	defer e.Close()
	st, n := solve(t, e, Pick, 7)
	if st.Reason != "success" {
		t.Fatalf("pick over a pseudo-terminal ended %q after %d steps, want success", st.Reason, n)
	}
	if len(st.Obs.Images) != 1 || st.Obs.Images[0].MIME != "image/jpeg" || len(st.Obs.Images[0].Data) == 0 {
		t.Errorf("observation images = %d, want one JPEG camera frame", len(st.Obs.Images))
	}
}

func TestContractOverSerial(t *testing.T) {
	path, _ := startSim(t, sim.Options{})
	rig, err := Dial(context.Background(), path, RigOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(rig, Options{Task: Reach})
	if err != nil {
		rig.Close()
		t.Fatal(err)
	}
	envtest.Check(t, e, env.Task{Seed: 5})
}
