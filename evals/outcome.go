package evals

import (
	"context"
	"errors"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/policy"
)

// The outcomes of an episode (Result.Outcome). An error is not a failure:
// the episode did not run to its end, for a reason its ErrorKind names,
// and the report counts it apart.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeError   = "error"
)

// The kinds of error (Result.ErrorKind).
const (
	KindBackend     = "backend"      // the env's backend died: the browser, the serial port (env.ErrBackendLost)
	KindModelAPI    = "model_api"    // the model's API failed after its retries (policy.APIError, a bad response)
	KindTimeout     = "timeout"      // a policy call or env step took longer than the step timeout
	KindEnvSetup    = "env_setup"    // the env's Reset failed
	KindEnv         = "env"          // the env's Step failed for another reason
	KindPolicy      = "policy"       // the policy failed to act (or to be made) for another reason
	KindPolicyPanic = "policy_panic" // the policy or the env panicked
	KindRecorder    = "recorder"     // an observer, such as the trajectory recorder, failed
	KindEvaluate    = "evaluate"     // the task's setup or evaluator failed: threw, did not return, navigated away (env.ErrEvaluate); not retried
)

// Kinds lists the error kinds, in the order reports list them.
var Kinds = []string{KindBackend, KindModelAPI, KindTimeout, KindEnvSetup, KindEnv, KindEvaluate, KindPolicy, KindPolicyPanic, KindRecorder}

// errPanic is wrapped by the error of an episode that panicked.
var errPanic = errors.New("panic")

// Classify returns the outcome of an episode that ended with err (nil: it
// ran to its end, a success or a failure as success says) and, for an
// error, its kind. A policy that gave no valid action (policy.ErrNoAction)
// failed the task: that is a failure, not an error.
func Classify(err error, success bool) (outcome, kind string) {
	switch {
	case err == nil && success:
		return OutcomeSuccess, ""
	case err == nil, errors.Is(err, policy.ErrNoAction):
		return OutcomeFailure, ""
	}
	var ae *agent.Error
	var api *policy.APIError
	phase := agent.Phase("")
	if errors.As(err, &ae) {
		phase = ae.Phase
	}
	switch {
	case errors.Is(err, errPanic):
		kind = KindPolicyPanic
	case errors.Is(err, env.ErrBackendLost):
		kind = KindBackend
	case errors.Is(err, agent.ErrStepTimeout), errors.Is(err, context.DeadlineExceeded):
		kind = KindTimeout
	case errors.As(err, &api), errors.Is(err, policy.ErrBadResponse), errors.Is(err, policy.ErrRateLimited), errors.Is(err, policy.ErrAuth):
		kind = KindModelAPI
	case errors.Is(err, env.ErrEvaluate):
		// After the timeouts, the backend and the model's API: a judge's
		// 429 or a step timeout during scoring is not the task's fault.
		kind = KindEvaluate
	case phase == agent.PhaseReset:
		kind = KindEnvSetup
	case phase == agent.PhaseEnv:
		kind = KindEnv
	case phase == agent.PhaseObserver:
		kind = KindRecorder
	default:
		kind = KindPolicy
	}
	return OutcomeError, kind
}
