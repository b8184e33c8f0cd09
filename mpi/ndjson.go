package mpi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"

	"github.com/custodian-him/custodian"
)

// ReadPatients reads FHIR Patient resources, one JSON object a line (Bulk
// Data NDJSON), into Records, decoding on several goroutines. Blank lines
// are skipped. It returns EINVALID, naming the line, for a line that is
// not a Patient.
func ReadPatients(ctx context.Context, r io.Reader) ([]Record, error) {
	type batch struct {
		first int // line number of lines[0]
		lines [][]byte
		recs  []Record
		err   error
		done  chan struct{}
	}
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *batch, workers*2)
	order := make(chan *batch, workers*4)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range todo {
				b.recs = make([]Record, 0, len(b.lines))
				for i, l := range b.lines {
					rec, err := PatientRecord(l)
					if err != nil {
						b.err = custodian.Errorf(custodian.EINVALID, "mpi: line %d: %s", b.first+i, custodian.ErrorMessage(err))
						break
					}
					b.recs = append(b.recs, rec)
				}
				close(b.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(todo)
		defer close(order)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		line := 0
		cur := &batch{first: 1, done: make(chan struct{})}
		flush := func() bool {
			if len(cur.lines) == 0 {
				return true
			}
			select {
			case todo <- cur:
			case <-ctx.Done():
				return false
			}
			order <- cur
			cur = &batch{first: line + 1, done: make(chan struct{})}
			return true
		}
		for sc.Scan() {
			line++
			l := bytes.TrimSpace(sc.Bytes())
			if len(l) == 0 {
				continue
			}
			if len(cur.lines) == 0 {
				cur.first = line
			}
			cur.lines = append(cur.lines, bytes.Clone(l))
			if len(cur.lines) == 2048 && !flush() {
				readErr <- ctx.Err()
				return
			}
		}
		flush()
		readErr <- sc.Err()
	}()
	var out []Record
	var firstErr error
	for b := range order {
		<-b.done
		if b.err != nil && firstErr == nil {
			firstErr = b.err
		}
		if firstErr == nil {
			out = append(out, b.recs...)
		}
	}
	wg.Wait()
	if err := <-readErr; err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
