package conversation

import "time"

// reportPartSize is the most agents plus chats one part of a report
// holds: about 200 KiB of JSON.
const reportPartSize = 5000

// split cuts the report into parts of at most size agents and chats.
func (r nodeReport) split(size int) []nodeReport {
	if len(r.Agents)+len(r.Chats) <= size {
		r.Part, r.Parts = 0, 1
		return []nodeReport{r}
	}
	var parts []nodeReport
	cur := func() *nodeReport {
		if len(parts) == 0 || len(parts[len(parts)-1].Agents)+len(parts[len(parts)-1].Chats) >= size {
			parts = append(parts, nodeReport{Node: r.Node, Round: r.Round, Part: len(parts), Agents: map[int64]int{}, Chats: map[string]int{}})
		}
		return &parts[len(parts)-1]
	}
	for id, n := range r.Agents {
		cur().Agents[id] = n
	}
	for id, n := range r.Chats {
		cur().Chats[id] = n
	}
	for i := range parts {
		parts[i].Parts = len(parts)
	}
	return parts
}

// received takes in one part of another node's report and reports the
// node's last whole report if it said goodbye. A node is alive while any
// part arrives; its connections change once a round is whole.
func (c *cluster) received(r *nodeReport) (gone *nodeReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if r.Bye {
		gone = c.nodes[r.Node]
		delete(c.nodes, r.Node)
		delete(c.parts, r.Node)
		return gone
	}
	if last := c.nodes[r.Node]; last != nil {
		last.seen = now
	}
	if r.Parts <= 1 {
		r.seen = now
		c.nodes[r.Node] = r
		delete(c.parts, r.Node)
		return nil
	}
	if c.parts == nil {
		c.parts = map[string]*nodeReport{}
	}
	p := c.parts[r.Node]
	if p == nil || p.Round != r.Round {
		// A new round; the parts of an older one that did not all
		// arrive are dropped.
		p = &nodeReport{Node: r.Node, Round: r.Round, Parts: r.Parts, Agents: map[int64]int{}, Chats: map[string]int{}}
		c.parts[r.Node] = p
	}
	for id, n := range r.Agents {
		p.Agents[id] = n
	}
	for id, n := range r.Chats {
		p.Chats[id] = n
	}
	p.seen = now
	p.got++
	if p.got >= p.Parts {
		p.seen = now
		c.nodes[r.Node] = p
		delete(c.parts, r.Node)
	}
	return nil
}
