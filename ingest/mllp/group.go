package mllp

import (
	"context"
	"sync"
)

// Group commit: when the Handler is a BatchHandler, the messages ready to
// be stored (their turn among the messages about the same patient come)
// wait in one queue, from every connection. A committer takes all that
// are waiting, up to MaxBatch, and stores them in one HandleBatch; while
// it waits for the disk, the next batch gathers. Several committers run at
// once, so one batch is being prepared (mapped, validated, indexed) while
// another is written.

// job is one message waiting for a committer.
type job struct {
	ctx  context.Context
	in   Inbound
	done chan error
}

// grouper runs the committers.
type grouper struct {
	once    sync.Once
	mu      sync.RWMutex // held to send on jobs, and to close it
	stopped bool
	jobs    chan *job
	wg      sync.WaitGroup
}

// storeGrouped hands in to a committer and waits for its outcome.
func (s *Server) storeGrouped(ctx context.Context, bh BatchHandler, in Inbound) error {
	g := &s.group
	g.once.Do(func() {
		g.jobs = make(chan *job, s.MaxInFlight)
		for range s.Committers {
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				s.commitLoop(bh, g.jobs)
			}()
		}
	})
	j := &job{ctx: ctx, in: in, done: make(chan error, 1)}
	g.mu.RLock()
	if g.stopped {
		g.mu.RUnlock()
		return bh.Handle(ctx, in.Message, in.Raw)
	}
	g.jobs <- j
	g.mu.RUnlock()
	return <-j.done
}

// commitLoop stores the waiting messages, a batch at a time, until jobs is
// closed.
func (s *Server) commitLoop(bh BatchHandler, jobs <-chan *job) {
	batch := make([]*job, 0, s.MaxBatch)
	ins := make([]Inbound, 0, s.MaxBatch)
	for j := range jobs {
		batch, ins = append(batch[:0], j), append(ins[:0], j.in)
	gather:
		for len(batch) < s.MaxBatch {
			select {
			case j, ok := <-jobs:
				if !ok {
					break gather
				}
				batch, ins = append(batch, j), append(ins, j.in)
			default:
				break gather
			}
		}
		s.Batches.Add(1)
		s.Batched.Add(int64(len(ins)))
		errs := bh.HandleBatch(batch[0].ctx, ins)
		for i, j := range batch {
			j.done <- errs[i]
		}
	}
}

// stopGroup ends the committers once no message can come any more.
func (s *Server) stopGroup() {
	g := &s.group
	g.once.Do(func() {}) // none started: none will be
	g.mu.Lock()
	if g.stopped || g.jobs == nil {
		g.stopped = true
		g.mu.Unlock()
		return
	}
	g.stopped = true
	close(g.jobs)
	g.mu.Unlock()
	g.wg.Wait()
}
