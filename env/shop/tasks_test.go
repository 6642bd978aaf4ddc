package shop

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var testTasks = sync.OnceValue(func() *TaskSet { return NewTaskSet(testCatalog(), 1) })

func allTasks(t *testing.T, ts *TaskSet) []Task {
	t.Helper()
	var all []Task
	for _, name := range SplitNames() {
		s, err := ts.Split(name)
		if err != nil {
			t.Fatalf("Split(%q) = %v", name, err)
		}
		all = append(all, s...)
	}
	return all
}

func TestSplits(t *testing.T) {
	ts := testTasks()
	sizes := map[string]int{"train": TrainTasks, "dev": DevTasks, "test": TestTasks}
	ids := map[string]string{}
	targets := map[string]string{}
	for name, want := range sizes {
		tasks, err := ts.Split(name)
		if err != nil || len(tasks) != want {
			t.Fatalf("Split(%q) = %d tasks, %v; want %d", name, len(tasks), err, want)
		}
		for _, task := range tasks {
			if task.Split != name || !strings.HasPrefix(task.ID, "shop-"+name+"-") {
				t.Errorf("task %s in split %q says split %q", task.ID, name, task.Split)
			}
			if other, dup := ids[task.ID]; dup {
				t.Errorf("task id %s in %s and %s", task.ID, other, name)
			}
			ids[task.ID] = name
			if other, dup := targets[task.Goal.TargetID]; dup && other != name {
				t.Errorf("product %s is the target of tasks in %s and %s: splits must be disjoint", task.Goal.TargetID, other, name)
			}
			targets[task.Goal.TargetID] = name
			if got, ok := ts.Task(task.ID); !ok || !reflect.DeepEqual(got, task) {
				t.Errorf("Task(%q) = %v, want the task", task.ID, ok)
			}
		}
	}
	if _, err := ts.Split("validation"); err == nil || !strings.Contains(err.Error(), "train, dev, test") {
		t.Errorf("Split(validation) = %v, want an error naming train, dev, test", err)
	}
	if _, ok := ts.Task("shop-test-9999"); ok {
		t.Errorf("Task(shop-test-9999) found, want none")
	}
}

func TestTasksDeterministic(t *testing.T) {
	a := allTasks(t, NewTaskSet(testCatalog(), 5))
	b := allTasks(t, NewTaskSet(NewCatalog(1, 0), 5))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("NewTaskSet with the same catalog seed and task seed gave different tasks")
	}
	c := allTasks(t, NewTaskSet(testCatalog(), 6))
	if reflect.DeepEqual(a, c) {
		t.Errorf("NewTaskSet with seeds 5 and 6 gave the same tasks")
	}
}

// TestTasksSatisfiable: every task's target earns reward 1 when bought
// with the goal's options at the goal's address, and the goal is what the
// issue asks for.
func TestTasksSatisfiable(t *testing.T) {
	c := testCatalog()
	for _, task := range allTasks(t, testTasks()) {
		g := task.Goal
		p, ok := c.Product(g.TargetID)
		if !ok {
			t.Fatalf("%s: target %s not in the catalog", task.ID, g.TargetID)
		}
		b := Reward(g, p, Purchase{ProductID: p.ID, Options: g.Options, Quantity: 1, Address: g.Address})
		if b.Reward != 1 {
			t.Errorf("%s: the target scores %v (%+v), want 1", task.ID, b.Reward, b)
		}
		switch {
		case g.Category != p.Category:
			t.Errorf("%s: category %q, target's %q", task.ID, g.Category, p.Category)
		case len(g.Attributes) < 1 || len(g.Attributes) > 3:
			t.Errorf("%s: %d attributes, want 1 to 3", task.ID, len(g.Attributes))
		case len(g.Options) > 2:
			t.Errorf("%s: %d options, want 0 to 2", task.ID, len(g.Options))
		case g.PriceMax < p.Price || g.PriceMax > p.Price*1.6+5:
			t.Errorf("%s: price ceiling %v for a price of %v, want a bit above", task.ID, g.PriceMax, p.Price)
		case g.RatingMin != 0 && g.RatingMin != 3.5 && g.RatingMin != 4 && g.RatingMin != 4.5:
			t.Errorf("%s: rating minimum %v, want 0, 3.5, 4 or 4.5", task.ID, g.RatingMin)
		case g.ShipToMe != (g.Address == task.Profile):
			t.Errorf("%s: ship to me %v, address %v, profile %v", task.ID, g.ShipToMe, g.Address, task.Profile)
		}
	}
}

var (
	priceRE   = regexp.MustCompile(`(under|lower than|less than|no more than|at most) (\$([0-9]+\.[0-9]{2})|([0-9]+\.[0-9]{2}) dollars)`)
	ratingRE  = regexp.MustCompile(`at least ([0-9.]+) stars`)
	addressRE = regexp.MustCompile(`address: ([^,\n]+), ([^,\n]+), ([^,\n]+), ([A-Z]{2}) ([0-9]{5})$`)
)

// TestInstructions checks what the page contract promises a policy that
// reads the instruction.
func TestInstructions(t *testing.T) {
	starts := map[string]bool{}
	for _, task := range allTasks(t, testTasks()) {
		in, g := task.Instruction, task.Goal
		if strings.Contains(in, "\n") {
			t.Errorf("%s: instruction has a line break: %q", task.ID, in)
		}
		if !strings.Contains(in, g.Category) {
			t.Errorf("%s: %q does not name the category %q", task.ID, in, g.Category)
		}
		for _, a := range g.Attributes {
			if !strings.Contains(in, a) {
				t.Errorf("%s: %q does not name the attribute %q", task.ID, in, a)
			}
		}
		for name, v := range g.Options {
			if _, hidden := task.Hidden[name]; hidden {
				continue // the ambiguous split leaves it out on purpose
			}
			if !strings.Contains(in, name+" "+v) && !(name == "color" && strings.Contains(in, "in "+v)) {
				t.Errorf("%s: %q does not name the option %s %q", task.ID, in, name, v)
			}
		}
		m := priceRE.FindStringSubmatch(in)
		if m == nil {
			t.Errorf("%s: %q has no price ceiling", task.ID, in)
		} else if p, _ := strconv.ParseFloat(m[3]+m[4], 64); p != g.PriceMax {
			t.Errorf("%s: %q says price %v, goal %v", task.ID, in, p, g.PriceMax)
		}
		m = ratingRE.FindStringSubmatch(in)
		switch {
		case g.RatingMin == 0 && m != nil:
			t.Errorf("%s: %q asks a rating, the goal none", task.ID, in)
		case g.RatingMin > 0 && m == nil:
			t.Errorf("%s: %q asks no rating, the goal %v", task.ID, in, g.RatingMin)
		case m != nil:
			if r, _ := strconv.ParseFloat(m[1], 64); r != g.RatingMin {
				t.Errorf("%s: %q says rating %v, goal %v", task.ID, in, r, g.RatingMin)
			}
		}
		m = addressRE.FindStringSubmatch(in)
		if m == nil {
			t.Errorf("%s: %q does not end with \"address: Name, Street, City, ST 12345\"", task.ID, in)
		} else if got := (Address{m[1], m[2], m[3], m[4], m[5]}); got != g.Address {
			t.Errorf("%s: the instruction's address %+v, the goal's %+v", task.ID, got, g.Address)
		}
		if g.ShipToMe != strings.Contains(in, "ship it to me") {
			t.Errorf("%s: ship to me %v, instruction %q", task.ID, g.ShipToMe, in)
		}
		first, _, _ := strings.Cut(in, " "+g.Category)
		starts[strings.Fields(first)[0]+" "+strings.Fields(first)[1]] = true
	}
	if len(starts) < 4 {
		t.Errorf("instructions start in %d ways (%v), want varied phrasings", len(starts), starts)
	}
}

// TestTasksSmallCatalog: a catalog smaller than the task set still gives
// distinct, satisfiable tasks (the injection split repeats the test
// split's instructions, by design).
func TestTasksSmallCatalog(t *testing.T) {
	c := NewCatalog(2, 50)
	ts := NewTaskSet(c, 2)
	seen := map[string]bool{}
	for _, task := range allTasks(t, ts) {
		if seen[task.Instruction] && task.Split != "injection" {
			t.Errorf("%s: instruction repeated: %q", task.ID, task.Instruction)
		}
		seen[task.Instruction] = true
		p, _ := c.Product(task.Goal.TargetID)
		if b := Reward(task.Goal, p, Purchase{Options: task.Goal.Options, Address: task.Goal.Address}); b.Reward != 1 {
			t.Errorf("%s: the target scores %v, want 1", task.ID, b.Reward)
		}
	}
}

func TestPriceCeiling(t *testing.T) {
	tests := []struct{ p, want float64 }{
		{13.49, 15}, {37.99, 40}, {40, 40}, {99.99, 100}, {112.49, 125}, {310.95, 350},
	}
	for _, tt := range tests {
		if got := priceCeiling(tt.p); got != tt.want {
			t.Errorf("priceCeiling(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestAmbiguousSplit(t *testing.T) {
	ts := NewTaskSet(NewCatalog(1, 2000), 1)
	amb, err := ts.Split("ambiguous")
	if err != nil {
		t.Fatal(err)
	}
	test, _ := ts.Split("test")
	withOptions := 0
	for _, tk := range test {
		if len(tk.Goal.Options) > 0 {
			withOptions++
		}
	}
	if len(amb) != withOptions || len(amb) == 0 {
		t.Fatalf("%d ambiguous tasks, %d test tasks with options: want one each", len(amb), withOptions)
	}
	for _, a := range amb {
		if len(a.Hidden) != 1 || !strings.HasPrefix(a.ID, "shop-ambiguous-") {
			t.Fatalf("task %s: hidden %v", a.ID, a.Hidden)
		}
		for name, v := range a.Hidden {
			if a.Goal.Options[name] != v {
				t.Errorf("%s: the hidden %s %q is not the goal's (the reward must still want it)", a.ID, name, v)
			}
			if strings.Contains(a.Instruction, name+" "+v) {
				t.Errorf("%s: the instruction still says %s %s: %s", a.ID, name, v, a.Instruction)
			}
		}
		if _, ok := ts.Task(a.ID); !ok {
			t.Errorf("%s is not found by id", a.ID)
		}
	}
}
