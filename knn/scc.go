package knn

// StronglyConnected labels the strongly connected components of a directed
// graph on vertices 0..n-1 whose out-edges are succ(v) (indices outside
// [0, n) are an error of the caller and panic). It is Tarjan's algorithm with
// an explicit stack, so a graph of any depth cannot overflow the goroutine
// stack. comp[v] is v's component; components are numbered in the order
// Tarjan completes them, which is a reverse topological order of the
// condensation (a component's successors get smaller numbers). It returns
// comp [n] and the number of components.
func StronglyConnected(n int, succ func(v int) []int32) (comp []int, count int) {
	const unvisited = -1
	index := make([]int, n)
	low := make([]int, n)
	comp = make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unvisited
		comp[i] = -1
	}
	var stack []int // Tarjan's stack of vertices in open components
	type frame struct{ v, next int }
	var call []frame // the explicit recursion stack
	counter := 0
	for root := range n {
		if index[root] != unvisited {
			continue
		}
		call = append(call, frame{root, 0})
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			top := &call[len(call)-1]
			v := top.v
			out := succ(v)
			if top.next < len(out) {
				w := int(out[top.next])
				top.next++
				if index[w] == unvisited {
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			// v is finished: close its component if it is a root, then
			// return to the caller, passing low up.
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = count
					if w == v {
						break
					}
				}
				count++
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
		}
	}
	return comp, count
}
