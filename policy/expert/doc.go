// Package expert holds pilot's scripted experts: Shop, which reads the
// store's pages, searches, compares and buys; Robot, which solves the arm's
// tasks with inverse kinematics. Benchmarks use them as baselines and the
// learners clone them (policy/shopnn, policy/ppo).
//
// It also reads the web observation's element tree (ParseTree, Node) and
// the shop's pages (ParseShopInstruction, ShopResults, ShopOptionGroups),
// which the shop's neural policy shares.
package expert
