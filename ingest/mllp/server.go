// Package mllp receives HL7 v2 messages over MLLP (the minimal lower layer
// protocol: each message framed by 0x0B … 0x1C 0x0D on a TCP stream, TLS
// optional) and answers each with one acknowledgement, sent only after the
// message is durably stored — or, if it cannot be, kept as a dead letter
// with the reason.
//
// A connection may send messages without waiting for each answer
// (pipelining); the answers come back in the order of the messages.
// Messages about one patient are stored in the order they arrived, across
// all connections, and so are copies of one message (same sender and
// control id); the others are stored concurrently. With a BatchHandler
// (StoreHandler is one) the messages ready at the same moment, from every
// connection, are stored together in one transaction and one commit
// (group commit, see group.go). When MaxInFlight messages are being stored
// the server stops reading, and TCP pushes back on the senders: nothing is
// dropped.
package mllp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/ingest/hl7v2"
)

// Handler stores a message durably. It returns nil once the message (and
// what it maps to) is committed, or when the same message (by sending
// application, facility and control id) was stored before. An error with
// an *hl7v2.Error, EINVALID or EUNPROCESSABLE is the message's fault (it
// goes to the dead letters, answered AE or AR); any other is the
// receiver's (answered AR, so the sender tries again).
type Handler interface {
	Handle(ctx context.Context, m *hl7v2.Message, raw []byte) error
}

// DeadLetters keeps messages that were refused, with the reason, durably.
type DeadLetters interface {
	Put(ctx context.Context, l *DeadLetter) error
}

// DeadLetter is a refused message.
type DeadLetter struct {
	// Raw is the message as received (cut at the server's limit).
	Raw []byte
	// Header is what could be read of its MSH.
	Header hl7v2.Header
	// Code is the acknowledgement sent (AE or AR; AR too when no answer
	// could be sent, the connection having gone).
	Code hl7v2.AckCode
	// Reason is why, safe to show.
	Reason string
	// Condition is the HL7 table 0357 code, Location where (e.g. "PID-3").
	Condition, Location string
	// Remote is the sender's address.
	Remote   string
	Received time.Time
}

// Server is an MLLP listener.
type Server struct {
	Handler     Handler
	DeadLetters DeadLetters
	// TLS, when set, makes the listener speak TLS.
	TLS *tls.Config
	// MaxMessage is the largest message accepted, in bytes (default 4 MiB).
	MaxMessage int
	// MaxInFlight bounds the messages being stored at once, over all
	// connections (default 256); beyond it reading stops.
	MaxInFlight int
	// MaxConns bounds the connections (default 256); more wait to be
	// accepted.
	MaxConns int
	// MaxBatch bounds the messages stored in one commit when the Handler
	// is a BatchHandler (default 128).
	MaxBatch int
	// Committers is how many batches are stored at once (default 2): one
	// is prepared while another waits for the disk.
	Committers int
	// IdleTimeout closes a connection that sends nothing for so long
	// (default 10 minutes).
	IdleTimeout time.Duration
	// Log receives connection errors and handler failures; never message
	// content.
	Log *slog.Logger
	// Now is the clock (ACK time stamps, dead letters).
	Now func() time.Time

	inflight chan struct{}
	conns    chan struct{}
	order    orderer
	group    grouper
	seq      atomic.Int64
	mu       sync.Mutex
	lns      []net.Listener
	active   map[net.Conn]struct{}
	wg       sync.WaitGroup
	closed   bool
	stopping atomic.Bool

	// Counts since the start, for a feeds page.
	Accepted, Errors, Rejected, Duplicates atomic.Int64
	// Batches counts the group commits (HandleBatch calls) and Batched
	// the messages they carried: Batched/Batches is the mean batch.
	Batches, Batched atomic.Int64
}

func (s *Server) defaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return
	}
	if s.MaxMessage <= 0 {
		s.MaxMessage = 4 << 20
	}
	if s.MaxInFlight <= 0 {
		s.MaxInFlight = 256
	}
	if s.MaxConns <= 0 {
		s.MaxConns = 256
	}
	if s.MaxBatch <= 0 {
		s.MaxBatch = 128
	}
	if s.Committers <= 0 {
		s.Committers = 2
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = 10 * time.Minute
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.inflight = make(chan struct{}, s.MaxInFlight)
	s.conns = make(chan struct{}, s.MaxConns)
	s.active = map[net.Conn]struct{}{}
	s.order.tail = map[string]chan struct{}{}
}

// ListenAndServe listens on addr (":2575") and serves until ctx ends or
// Close is called.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mllp: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx ends or Close is called. It
// returns nil then; the connections being served are closed after the
// messages they sent are answered.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.defaults()
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for {
		select {
		case s.conns <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := ln.Accept()
		if err != nil {
			<-s.conns
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				s.wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return fmt.Errorf("mllp: %w", err)
		}
		s.mu.Lock()
		s.active[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				s.mu.Lock()
				delete(s.active, c)
				s.mu.Unlock()
				<-s.conns
				s.wg.Done()
			}()
			s.serveConn(ctx, c)
		}()
	}
}

// Close stops accepting, ends the connections' reading and waits for the
// messages read to be answered.
func (s *Server) Close() error {
	s.defaults()
	s.stopping.Store(true)
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.active {
		// Stop reading; answers still go out.
		c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.stopGroup()
	return nil
}

// pending is a message read and being stored; its answer is sent when
// done is closed, in reading order.
type pending struct {
	ack  []byte
	done chan struct{}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	remote := c.RemoteAddr().String()
	fr := &frameReader{r: bufio.NewReaderSize(c, 64<<10), max: s.MaxMessage}
	// The writer sends answers in the order the messages came.
	answers := make(chan *pending, s.MaxInFlight)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w := bufio.NewWriter(c)
		broken := false
		for p := range answers {
			<-p.done
			if broken || p.ack == nil {
				continue
			}
			c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			w.Write(frame(p.ack))
			if len(answers) == 0 {
				if err := w.Flush(); err != nil {
					broken = true
				}
			}
		}
		w.Flush()
	}()
	defer func() {
		close(answers)
		<-writerDone
	}()
	for {
		c.SetReadDeadline(time.Now().Add(s.IdleTimeout))
		if s.stopping.Load() {
			return // Close may have set its deadline before ours
		}
		raw, err := fr.next()
		switch {
		case err == nil:
		case errors.Is(err, errTruncated), errors.Is(err, errTooLarge):
			// A broken frame is answered and kept; the stream goes on.
		case errors.Is(err, io.ErrUnexpectedEOF):
			if len(raw) > 0 {
				// The sender went in the middle of a message: nobody to
				// answer, but the part received is kept.
				s.dead(ctx, raw, remote, hl7v2.AR, fmt.Errorf("the connection closed in the middle of a message (%d bytes received)", len(raw)))
			}
			return
		default:
			var ne net.Error
			if !errors.Is(err, io.EOF) && !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, net.ErrClosed) {
				s.Log.Info("mllp: connection read failed", "remote", remote, "err", err)
			}
			return
		}
		p := &pending{done: make(chan struct{})}
		// Back-pressure: wait for room before reading on.
		select {
		case s.inflight <- struct{}{}:
		case <-ctx.Done():
			return
		}
		answers <- p
		if err != nil {
			go func(raw []byte, err error) {
				defer func() { <-s.inflight; close(p.done) }()
				reason := err
				if errors.Is(err, errTooLarge) {
					reason = fmt.Errorf("the message is longer than %d bytes", s.MaxMessage)
				}
				p.ack = s.refuse(ctx, raw, remote, &hl7v2.Error{Condition: "100", Reject: true, Msg: reason.Error()})
			}(raw, err)
			continue
		}
		m, perr := hl7v2.Parse(raw)
		var keys [2]string
		if perr == nil {
			keys = [2]string{patientKey(m), controlKey(m)}
		}
		wait, release := s.order.enqueue(keys[:]...)
		go func() {
			defer func() { release(); <-s.inflight; close(p.done) }()
			wait()
			p.ack = s.handle(ctx, m, perr, raw, remote)
		}()
	}
}

// handle stores one parsed message and returns its answer.
func (s *Server) handle(ctx context.Context, m *hl7v2.Message, perr error, raw []byte, remote string) []byte {
	if perr != nil {
		return s.refuse(ctx, raw, remote, perr)
	}
	var err error
	if bh, ok := s.Handler.(BatchHandler); ok {
		err = s.storeGrouped(ctx, bh, Inbound{Message: m, Raw: raw})
	} else {
		err = s.Handler.Handle(ctx, m, raw)
	}
	if err == nil {
		s.Accepted.Add(1)
		return s.ack(raw, hl7v2.AA, nil)
	}
	if errors.Is(err, ErrDuplicate) {
		s.Duplicates.Add(1)
		return s.ack(raw, hl7v2.AA, nil)
	}
	if messageFault(err) {
		return s.refuse(ctx, raw, remote, err)
	}
	// The receiver failed (database down, timeout): AR without a dead
	// letter; the sender sends it again.
	s.Errors.Add(1)
	s.Log.Error("mllp: storing a message failed", "remote", remote, "control_id", m.Header().ControlID, "err", err)
	return s.ack(raw, hl7v2.AR, custodian.Errorf(custodian.EINTERNAL, "the message could not be stored now; send it again"))
}

// ErrDuplicate is what a Handler returns for a message stored before; it
// is answered AA.
var ErrDuplicate = errors.New("mllp: the message was received before")

func messageFault(err error) bool {
	if hl7v2.AsError(err) != nil {
		return true
	}
	switch custodian.ErrorCode(err) {
	case custodian.EINVALID, custodian.EUNPROCESSABLE, custodian.EPRECONDITION, custodian.ETOOLARGE:
		return true
	}
	return false
}

// refuse keeps a message as a dead letter and returns its AE or AR. If it
// cannot be kept, the answer is AR with error 207, so the sender keeps it.
func (s *Server) refuse(ctx context.Context, raw []byte, remote string, reason error) []byte {
	code := hl7v2.CodeFor(reason)
	if code == hl7v2.AA {
		code = hl7v2.AE
	}
	if err := s.dead(ctx, raw, remote, code, reason); err != nil {
		s.Errors.Add(1)
		return s.ack(raw, hl7v2.AR, custodian.Errorf(custodian.EINTERNAL, "the message was refused (%s) and could not be kept; send it again", custodian.ErrorMessage(reason)))
	}
	s.Rejected.Add(1)
	return s.ack(raw, code, reason)
}

func (s *Server) dead(ctx context.Context, raw []byte, remote string, code hl7v2.AckCode, reason error) error {
	if s.DeadLetters == nil {
		return errors.New("mllp: no dead-letter store")
	}
	h, _ := hl7v2.HeaderOf(raw)
	l := &DeadLetter{Raw: raw, Header: h, Code: code, Reason: custodian.ErrorMessage(reason), Remote: remote, Received: s.Now()}
	if e := hl7v2.AsError(reason); e != nil {
		l.Condition, l.Location, l.Reason = e.Condition, e.Location, e.Error()
	} else if custodian.ErrorCode(reason) == custodian.EINTERNAL {
		l.Reason = reason.Error()
	}
	err := s.DeadLetters.Put(ctx, l)
	if err != nil {
		s.Log.Error("mllp: keeping a dead letter failed", "remote", remote, "control_id", h.ControlID, "err", err)
	}
	return err
}

func (s *Server) ack(raw []byte, code hl7v2.AckCode, err error) []byte {
	h, d := hl7v2.HeaderOf(raw)
	id := "CUST" + strconv.FormatInt(s.Now().UnixNano(), 36) + "-" + strconv.FormatInt(s.seq.Add(1), 36)
	return hl7v2.Ack(h, d, code, err, s.Now(), id)
}

// patientKey names the patient a message is about, for ordering: PID-3's
// first identifier with its authority. Messages without one are not
// ordered against others.
func patientKey(m *hl7v2.Message) string {
	pid := m.Segment("PID")
	if pid == nil {
		return ""
	}
	c := pid.Get(3)
	if c.At(1) == "" {
		return ""
	}
	return "patient " + c.At(1) + "^" + c.Sub(4, 1) + "&" + c.Sub(4, 2)
}

// controlKey names a message by its sender and control id, for ordering:
// a resend arriving while the first copy is being stored waits for it, so
// it is found to be a duplicate instead of being applied twice.
func controlKey(m *hl7v2.Message) string {
	h := m.Header()
	if h.ControlID == "" {
		return ""
	}
	return "message " + h.SendingApp + "|" + h.SendingFacility + "|" + h.ControlID
}

// orderer makes a message wait for the messages enqueued before it that
// share one of its keys, in the order enqueue is called.
type orderer struct {
	mu   sync.Mutex
	tail map[string]chan struct{}
}

// enqueue returns the wait to call before the message's work (it returns
// once every earlier message sharing a key has been released) and the
// release to call when done. Empty keys are ignored. Each message waits
// only for messages enqueued before it, so waits never form a cycle.
func (o *orderer) enqueue(keys ...string) (wait, release func()) {
	mine := make(chan struct{})
	var prevs []chan struct{}
	o.mu.Lock()
	for i, k := range keys {
		if k == "" || slices.Contains(keys[:i], k) {
			continue
		}
		if prev := o.tail[k]; prev != nil {
			prevs = append(prevs, prev)
		}
		o.tail[k] = mine
	}
	o.mu.Unlock()
	wait = func() {
		for _, p := range prevs {
			<-p
		}
	}
	release = func() {
		o.mu.Lock()
		for _, k := range keys {
			if k != "" && o.tail[k] == mine {
				delete(o.tail, k)
			}
		}
		o.mu.Unlock()
		close(mine)
	}
	return wait, release
}
