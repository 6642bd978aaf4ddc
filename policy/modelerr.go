package policy

import "errors"

// ErrNoTools: the model (or the server in front of it) does not take tool
// definitions, e.g. Ollama's "llama3 does not support tools". Ask for the
// action as text instead (LLMOptions.NoTools) or pick a model with tool
// support. Like ErrNoImages it is never retried.
var ErrNoTools = errors.New("the model does not accept tools")
