package conversation

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/parleychat/parley"
)

// A visitor's sends are queued without waiting for their commits while the
// agent ends the chat: every acknowledged message is stored once, in the
// order sent, and before the end; every refused one is not stored; nothing
// follows the end in the log or on the bus.
func TestSendsQueuedAcrossEnd(t *testing.T) {
	f := newRfix(t, Config{})
	ctx := context.Background()
	res, err := f.svc.RequestChat(ctx, ChatRequest{GroupID: 1, Visitor: parley.Visitor{Name: "V"}})
	if err != nil {
		t.Fatal(err)
	}
	chatID := res.Chat.ID
	visitor, err := f.svc.Authenticate(ctx, res.VisitorToken)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.store.Chat(ctx, chatID)
	agent := f.alice
	if c.OfferedTo == f.bob.Agent.ID {
		agent = f.bob
	}
	if _, err := f.svc.Accept(ctx, agent, chatID); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		published []parley.Event
	)
	f.bus.hook(func(subject string, e parley.Event) {
		if e.ChatID == chatID && e.Seq > 0 {
			mu.Lock()
			published = append(published, e)
			mu.Unlock()
		}
	})

	const n = 200
	var (
		acked   = make([]bool, n)
		refused = make([]bool, n)
		done    sync.WaitGroup
	)
	done.Add(n)
	ended := make(chan error, 1)
	for i := range n {
		if i == n/2 {
			go func() { ended <- f.svc.End(ctx, agent, chatID) }()
		}
		f.svc.SendAsync(ctx, visitor, chatID, fmt.Sprintf("m%03d", i), SendOptions{ClientID: fmt.Sprintf("c%03d", i)}, func(e *parley.Event, err error) {
			defer done.Done()
			switch {
			case err == nil:
				acked[i] = true
			case parley.ErrorCode(err) == parley.ECLOSED:
				refused[i] = true
			default:
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	done.Wait()
	if err := <-ended; err != nil {
		t.Fatal(err)
	}

	stored, err := f.store.Events(ctx, chatID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	endAt, lastIdx := -1, -1
	for i, e := range stored {
		if e.Type == parley.EventState && e.State != nil && e.State.State == parley.StateTerminated {
			endAt = i
		}
		if e.Type != parley.EventMessage || e.From.Kind != parley.PartyVisitor {
			continue
		}
		if endAt >= 0 {
			t.Fatalf("message %q stored after the end of the chat", e.Text)
		}
		var idx int
		fmt.Sscanf(e.Text, "m%03d", &idx)
		if idx <= lastIdx {
			t.Fatalf("message %q stored after m%03d", e.Text, lastIdx)
		}
		lastIdx = idx
		seen[e.Text]++
	}
	if endAt < 0 {
		t.Fatal("the chat's end is not in the log")
	}
	nAcked := 0
	for i := range n {
		text := fmt.Sprintf("m%03d", i)
		switch {
		case acked[i]:
			nAcked++
			if seen[text] != 1 {
				t.Errorf("acknowledged %s stored %d times", text, seen[text])
			}
		case refused[i]:
			if seen[text] != 0 {
				t.Errorf("refused %s is stored", text)
			}
		}
	}
	if nAcked < n/2 {
		t.Errorf("only %d of the %d sends queued before the end were acknowledged", nAcked, n/2)
	}
	// The bus saw the chat's stored events in order, each once.
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(published); i++ {
		if published[i].Seq != published[i-1].Seq+1 {
			t.Fatalf("published seq %d after %d", published[i].Seq, published[i-1].Seq)
		}
	}
	if last := published[len(published)-1]; last.Type != parley.EventState || last.State.State != parley.StateTerminated {
		t.Fatalf("the last event published is %s, not the end", last.Type)
	}
}
