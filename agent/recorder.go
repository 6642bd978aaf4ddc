package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// TrajectoryFile is the name of the trajectory a Recorder writes in its
// directory.
const TrajectoryFile = "trajectory.jsonl"

// Recorder is an Observer that writes one episode to a directory:
//
//	DIR/trajectory.jsonl          the trajectory as JSON lines (see WriteJSONL)
//	DIR/images/reset-0.png        the reset observation's images
//	DIR/images/step-0003-0.jpg    step 3's first image
//
// It creates DIR at the reset, replacing a trajectory file already there,
// and writes each line as its event comes, so a killed run leaves a
// readable prefix (ReadJSONL reports it as cut short). It fills in the
// ImageRef.Path of the records it stores, relative to DIR.
//
// A write error is returned from OnEvent, so Run ends the episode and
// returns it. A Recorder records one episode: use a new one (and a new
// directory) for each.
type Recorder struct {
	dir    string
	f      *os.File
	images bool // the images directory exists
	used   bool
}

// NewRecorder returns a Recorder that writes to dir. Nothing is created
// until the episode starts.
func NewRecorder(dir string) *Recorder { return &Recorder{dir: dir} }

// Dir returns the directory the Recorder writes to.
func (r *Recorder) Dir() string { return r.dir }

// OnEvent records ev.
func (r *Recorder) OnEvent(_ context.Context, ev Event) error {
	switch ev.Kind {
	case EventReset:
		return r.reset(ev)
	case EventStep:
		if r.f == nil {
			return nil // the reset failed and said so
		}
		if err := r.storeImages(ev.Obs, ev.Step.Obs.Images, fmt.Sprintf("step-%04d", ev.Step.Index)); err != nil {
			return err
		}
		b, err := stepJSON(ev.Step)
		if err != nil {
			return fmt.Errorf("recorder: encode step %d: %w (Meta values must be JSON-encodable, rewards finite)", ev.Step.Index, err)
		}
		return r.write(b)
	case EventEnd:
		if r.f == nil {
			if r.used {
				return nil // the reset line could not be written and said so
			}
			// The reset failed: the trajectory is the task and the error.
			if err := r.reset(ev); err != nil {
				return err
			}
		}
		b, err := ev.Traj.endJSON()
		if err != nil {
			err = fmt.Errorf("recorder: encode the end line: %w", err)
		} else {
			err = r.write(b)
		}
		if cerr := r.f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("recorder: %w", cerr))
		}
		r.f = nil
		return err
	}
	return nil
}

func (r *Recorder) reset(ev Event) error {
	if r.used {
		return fmt.Errorf("recorder: %s already holds an episode: use a new Recorder and directory for each episode", r.dir)
	}
	r.used = true
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("recorder: create the record directory: %w", err)
	}
	f, err := os.Create(filepath.Join(r.dir, TrajectoryFile))
	if err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	r.f = f
	if err := r.storeImages(ev.Obs, ev.Traj.Reset.Images, "reset"); err != nil {
		return err
	}
	b, err := ev.Traj.headerJSON()
	if err != nil {
		return fmt.Errorf("recorder: encode the episode line: %w", err)
	}
	return r.write(b)
}

func (r *Recorder) write(b []byte) error {
	if _, err := r.f.Write(b); err != nil {
		return fmt.Errorf("recorder: %w", err)
	}
	return nil
}

// storeImages writes obs's images as images/PREFIX-N.ext and sets the
// matching refs' Path.
func (r *Recorder) storeImages(obs *env.Observation, refs []ImageRef, prefix string) error {
	if obs == nil {
		return nil
	}
	for i, im := range obs.Images {
		if len(im.Data) == 0 || i >= len(refs) {
			continue
		}
		if !r.images {
			if err := os.MkdirAll(filepath.Join(r.dir, "images"), 0o755); err != nil {
				return fmt.Errorf("recorder: create the images directory: %w", err)
			}
			r.images = true
		}
		rel := fmt.Sprintf("images/%s-%d%s", prefix, i, imageExt(im.MIME))
		if err := os.WriteFile(filepath.Join(r.dir, filepath.FromSlash(rel)), im.Data, 0o644); err != nil {
			return fmt.Errorf("recorder: %w", err)
		}
		refs[i].Path = rel
	}
	return nil
}

func imageExt(mime string) string {
	switch strings.ToLower(mime) {
	case "image/jpeg", "image/jpg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "image/gif":
		return ".gif"
	}
	return ".bin"
}
