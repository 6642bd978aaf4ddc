// Package nn is pilot's small neural-network toolkit: fully connected
// networks (MLP) on gonum matrices with explicit backprop, Adam, global
// gradient-norm clipping, orthogonal initialisation, categorical and
// diagonal-Gaussian policy heads, and a versioned weights file format.
//
// Everything is float64 and deterministic: the same *rand.Rand seed gives
// the same weights, samples and training curve. The package holds no global
// mutable state.
//
// # Forward, Backward and Predict
//
// [MLP.Forward] runs a batch (rows are samples) and caches the layer
// activations of that call; [MLP.Backward] backpropagates a gradient of the
// loss with respect to the outputs of the last Forward call, ADDS the
// parameter gradients into the network's gradient buffers (call
// [MLP.ZeroGrad] or clear the [Param] grads before each minibatch) and
// returns the gradient with respect to the input. Forward and Backward both
// return freshly allocated matrices that the caller owns; the network's
// internal buffers are reused across calls, whatever the batch size.
// [MLP.Predict] evaluates one input without touching the cache, so it may be
// called between Forward and Backward.
//
// # Weights files
//
// One network ([MLP.WriteTo], [ReadMLP]) is stored as
//
//	pilot-nn 1\n
//	{"sizes":[4,64,64,2],"act":"tanh","out_gain":0.01}\n
//	<the parameters as little-endian float64, in Params order>
//
// A [Bundle] (several networks, named vectors and string metadata: a whole
// trained policy) is stored as
//
//	pilot-bundle 1\n
//	{"meta":{...},"nets":["policy","value"],"vectors":[{"name":"log_std","len":2}]}\n
//	<each net in the listed order, in the single-network format>
//	<each vector in the listed order, as little-endian float64>
//
// Readers reject other versions, truncated data, non-finite values and
// networks of more than [MaxParams] parameters, and allocate in proportion
// to the data actually present, never to the sizes a header claims.
package nn
