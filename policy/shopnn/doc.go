// Package shopnn is the shop's neural policy, after WebShop's IL+RL
// baseline: it reads a page of the shop (Read) into candidate actions
// (searches, results, options, Buy Now, checkout, back), scores each with
// a small network over hashed features of the instruction, the page and
// the candidate (Model), and takes the best (Agent, a policy.Policy).
//
// BC clones the scripted expert's choices (Demonstrate); PPO fine-tunes
// the clone over variable candidate sets with a KL penalty to it. Episodes
// run through agent.Run; a Pool plays them on lite browsers in parallel,
// with the same results for any number of them. LoadShipped opens the
// policy pilot ships (nn:shop).
package shopnn
