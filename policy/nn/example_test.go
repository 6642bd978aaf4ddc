package nn_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/pilotkit/pilot/policy/nn"
)

// A small policy network: 4 inputs, a hidden layer of 16, 2 action
// logits. The same seed gives the same network.
func ExampleNewMLP() {
	m := nn.NewMLP([]int{4, 16, 2}, nn.Tanh, 0.01, rand.New(rand.NewPCG(1, 2)))
	x := mat.NewDense(3, 4, nil) // a batch of three observations
	x.Set(1, 0, 0.5)
	y := m.Forward(x)
	r, c := y.Dims()
	fmt.Println(r, c)
	again := nn.NewMLP([]int{4, 16, 2}, nn.Tanh, 0.01, rand.New(rand.NewPCG(1, 2))).Forward(x)
	fmt.Println("same seed, same outputs:", mat.Equal(y, again))
	// Output:
	// 3 2
	// same seed, same outputs: true
}
