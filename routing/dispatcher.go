package routing

import (
	"context"
	"sync"
)

// Applier carries out one decision (through the store and the bus) and
// returns the inputs that result from doing so, for example OfferDeclined
// when an offer could not be recorded because the chat ended meanwhile.
// It runs while the dispatcher is locked and must not call the Dispatcher.
type Applier func(ctx context.Context, d Decision) []Input

// Dispatcher makes the engine the one routing decision-maker of a node: it
// feeds inputs to the engine one at a time and applies each decision before
// the next input is handled.
type Dispatcher struct {
	mu     sync.Mutex
	engine *Engine
	apply  Applier
}

// NewDispatcher returns a dispatcher over engine that applies decisions
// with apply.
func NewDispatcher(engine *Engine, apply Applier) *Dispatcher {
	return &Dispatcher{engine: engine, apply: apply}
}

// Do handles in, applies the resulting decisions and every decision that
// follows from them, and returns the decisions that in itself led to.
func (d *Dispatcher) Do(ctx context.Context, in Input) []Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.handle(ctx, in)
}

func (d *Dispatcher) handle(ctx context.Context, in Input) []Decision {
	first := d.engine.Handle(in)
	pending := append([]Decision(nil), first...)
	for len(pending) > 0 {
		dec := pending[0]
		pending = pending[1:]
		for _, follow := range d.apply(ctx, dec) {
			pending = append(pending, d.engine.Handle(follow)...)
		}
	}
	return first
}

// Update runs prepare with the engine locked, then handles the input it
// returns like Do. It lets a caller change the store and tell the engine
// in one step, so that no decision applied in between can interleave with
// the change (an agent's own status change against one routing decided).
// prepare may return a nil input to change nothing.
func (d *Dispatcher) Update(ctx context.Context, prepare func() (Input, error)) ([]Decision, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	in, err := prepare()
	if err != nil || in == nil {
		return nil, err
	}
	return d.handle(ctx, in), nil
}

// Query runs fn with the engine locked, for reads such as a chat's queue
// position. fn must not keep the view.
func (d *Dispatcher) Query(fn func(v View)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn(d.engine)
}
