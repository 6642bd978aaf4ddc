package policy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/pilotkit/pilot/env"
)

// Replay returns a policy that plays actions in order: at step i it returns
// actions[i]. When the list runs out it returns an error wrapping ErrDone,
// which ends the episode (truncated) in agent.Run: it adds no action, such
// as a stop, that the list does not hold. It keeps no state, so one Replay
// may serve many episodes, also concurrently.
func Replay(actions []env.Action) Policy {
	return replay{actions: slices.Clone(actions)}
}

type replay struct {
	actions []env.Action
}

func (r replay) Act(ctx context.Context, in Input) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	switch {
	case in.Step < 0:
		return Decision{}, fmt.Errorf("replay: step %d is negative: Input.Step counts steps from 0", in.Step)
	case in.Step < len(r.actions):
		return Decision{Action: r.actions[in.Step]}, nil
	}
	return Decision{}, fmt.Errorf("replay: all %d actions were played: %w", len(r.actions), ErrDone)
}

// maxActionLine bounds one line of an actions file: an action and some room
// for indentation.
const maxActionLine = env.MaxActionLen + 1024

// LoadActions reads actions in their canonical text form, one a line, as
// env.ParseAction reads them. Blank lines and lines starting with # are
// ignored. Errors name the line: "actions file line 3: cannot parse action …".
func LoadActions(r io.Reader) ([]env.Action, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxActionLine)
	var actions []env.Action
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		a, err := env.ParseAction(s)
		if err != nil {
			return nil, fmt.Errorf("actions file line %d: %w", line, err)
		}
		actions = append(actions, a)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("actions file line %d: line is longer than %d bytes: put one action on each line: %w", line+1, maxActionLine, err)
		}
		return nil, fmt.Errorf("actions file line %d: read: %w", line+1, err)
	}
	return actions, nil
}

// ReadActionsFile reads the actions file at path with LoadActions.
func ReadActionsFile(path string) ([]env.Action, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	defer f.Close()
	actions, err := LoadActions(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return actions, nil
}
