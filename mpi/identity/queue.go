package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/mpi"
	"github.com/custodian-him/custodian/store"
)

// Watcher notes the Patients each write creates or updates, for Sync to
// score (register it after fhirapi.MatchWatcher, so the index holds them).
// It does no I/O.
func (s *Service) Watcher() store.Watcher {
	return func(ctx context.Context, versions []*store.Resource) {
		noted := false
		s.mu.Lock()
		for _, v := range versions {
			if v.Type != "Patient" || v.Deleted {
				continue
			}
			if s.dirty == nil {
				s.dirty = map[string]int64{}
			}
			s.dirty[v.ID] = v.VersionID
			noted = true
		}
		if s.wake == nil {
			s.wake = make(chan struct{}, 1)
		}
		s.mu.Unlock()
		if noted {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
}

// Run calls Sync whenever the watcher notes patients, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	wake := s.wake
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
		if _, err := s.Sync(ctx); err != nil && s.Logger != nil {
			s.Logger.Error("mpi queue", "err", err)
		}
	}
}

// Synced says what Sync wrote.
type Synced struct {
	Patients   int `json:"patients"`
	Candidates int `json:"candidates"`
	Overlays   int `json:"overlays"`
}

// Sync scores the patients the watcher noted and writes their
// duplicate-candidate and possible-overlay Tasks, as the system.
func (s *Service) Sync(ctx context.Context) (*Synced, error) {
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = nil
	s.mu.Unlock()
	ids := make([]string, 0, len(dirty))
	for id := range dirty {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ctx = custodian.NewContextWithActor(ctx, custodian.SystemActor())
	out := &Synced{}
	for _, id := range ids {
		n, o, err := s.check(ctx, id, dirty[id])
		if err != nil {
			return out, err
		}
		out.Patients++
		out.Candidates += n
		out.Overlays += o
	}
	return out, nil
}

// check scores Patient id and looks for an overlay in version vid.
func (s *Service) check(ctx context.Context, id string, vid int64) (candidates, overlays int, err error) {
	p, err := s.Store.Read(ctx, "Patient", id)
	switch custodian.ErrorCode(err) {
	case "":
	case custodian.ENOTFOUND, custodian.EGONE:
		return 0, 0, nil
	default:
		return 0, 0, err
	}
	res, err := store.Decode(p.Body)
	if err != nil {
		return 0, 0, err
	}
	if linkOf(res, "replaced-by") != "" {
		return 0, 0, nil
	}
	if vid > 1 {
		if ok, err := s.overlay(ctx, p, vid); err != nil {
			return 0, 0, err
		} else if ok {
			overlays++
		}
	}
	if s.Index == nil {
		return 0, overlays, nil
	}
	rec, err := mpi.PatientRecord(p.Body)
	if err != nil {
		return 0, overlays, nil // nothing to match on
	}
	matches, err := s.Index.MatchRecord(ctx, rec, 0, 0)
	if err != nil {
		return 0, overlays, err
	}
	for _, m := range matches {
		if m.Class == mpi.NonMatch || m.ID == id {
			continue
		}
		other, err := s.Store.Read(ctx, "Patient", m.ID)
		if err != nil {
			continue // gone since it was indexed
		}
		ores, err := store.Decode(other.Body)
		if err != nil || linkOf(ores, "replaced-by") != "" || linkOf(res, "replaces") == "Patient/"+m.ID {
			continue
		}
		if t, err := s.pairTask(ctx, id, m.ID); err != nil {
			return candidates, overlays, err
		} else if t != nil {
			continue // queued or decided before: never again
		}
		if err := s.writeCandidate(ctx, id, m); err != nil {
			return candidates, overlays, err
		}
		candidates++
	}
	return candidates, overlays, nil
}

func pairKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + "/" + b
}

type foundTask struct {
	id, status string
	version    int64
	res        map[string]any
}

// pairTask returns the candidate Task of the pair a, b (nil if none).
func (s *Service) pairTask(ctx context.Context, a, b string) (*foundTask, error) {
	return s.taskByKey(ctx, pairKey(a, b))
}

func (s *Service) taskByKey(ctx context.Context, key string) (*foundTask, error) {
	q, _, err := s.Store.ParseQuery("Task", url.Values{"identifier": {PairSystem + "|" + key}}, true)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.Search(ctx, q)
	if err != nil || len(page.Resources) == 0 {
		return nil, err
	}
	r := page.Resources[0]
	res, err := store.Decode(r.Body)
	if err != nil {
		return nil, err
	}
	st, _ := res["status"].(string)
	return &foundTask{id: r.ID, status: st, version: r.VersionID, res: res}, nil
}

func (s *Service) writeCandidate(ctx context.Context, id string, m mpi.Match) error {
	t := s.task(ctx, CodeCandidate, "requested", "Patient/"+id)
	t["intent"] = "proposal"
	t["identifier"] = []any{map[string]any{"system": PairSystem, "value": pairKey(id, m.ID)}}
	t["priority"] = "routine"
	if m.Class == mpi.AutoLink {
		t["priority"] = "urgent"
	}
	t["description"] = fmt.Sprintf("Patient/%s and Patient/%s may be the same person (match probability %.4f, %s)", id, m.ID, m.Probability, m.Class)
	inputs := []any{
		refInput("other-patient", "Patient/"+m.ID),
		map[string]any{"type": map[string]any{"text": "probability"}, "valueDecimal": jsonNumber(m.Probability)},
		map[string]any{"type": map[string]any{"text": "class"}, "valueString": m.Class.String()},
	}
	for _, e := range m.Evidence {
		inputs = append(inputs, map[string]any{"type": map[string]any{"text": "evidence"},
			"valueString": fmt.Sprintf("%s: %s (weight %+.2f)", e.Field, e.Level, e.Weight)})
	}
	t["input"] = inputs
	body, err := store.Encode(t)
	if err != nil {
		return err
	}
	_, err = s.Store.Create(ctx, "Task", body, store.WriteOptions{})
	return err
}

// overlay writes a possible-overlay Task when version vid of Patient p
// changed the name and the birth date or sex of a patient with clinical
// data; it reports whether it wrote one.
func (s *Service) overlay(ctx context.Context, p *store.Resource, vid int64) (bool, error) {
	cur, err := s.Store.VRead(ctx, "Patient", p.ID, vid)
	if err != nil {
		return false, nil
	}
	prev, err := s.Store.VRead(ctx, "Patient", p.ID, vid-1)
	if err != nil || prev.Deleted {
		return false, nil
	}
	a, err1 := mpi.PatientRecord(prev.Body)
	b, err2 := mpi.PatientRecord(cur.Body)
	if err1 != nil || err2 != nil {
		return false, nil
	}
	nameChanged := !strings.EqualFold(a.Family, b.Family) && !strings.EqualFold(a.Given, b.Given)
	if !nameChanged || (a.BirthDate == b.BirthDate && strings.EqualFold(a.Sex, b.Sex)) {
		return false, nil
	}
	key := "overlay/" + p.ID + "/" + strconv.FormatInt(vid, 10)
	if t, err := s.taskByKey(ctx, key); err != nil || t != nil {
		return false, err
	}
	clinical := false
	err = s.eachInCompartment(ctx, p.ID, func(r *store.Resource) error {
		if r.Type != "Patient" {
			clinical = true
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return false, err
	}
	if !clinical {
		return false, nil
	}
	t := s.task(ctx, CodeOverlay, "requested", cur.Ref()+"/_history/"+strconv.FormatInt(vid, 10))
	t["intent"] = "proposal"
	t["priority"] = "urgent"
	t["identifier"] = []any{map[string]any{"system": PairSystem, "value": key}}
	t["description"] = fmt.Sprintf("Patient/%s changed name and birth date or sex in version %d while holding clinical data: two people may share one record", p.ID, vid)
	t["input"] = []any{refInput("previous-version", prev.Ref()+"/_history/"+strconv.FormatInt(vid-1, 10))}
	body, err := store.Encode(t)
	if err != nil {
		return false, err
	}
	_, err = s.Store.Create(ctx, "Task", body, store.WriteOptions{})
	return err == nil, err
}

var errStop = custodian.Errorf(custodian.EINTERNAL, "stop")

// NotDuplicate records a person's decision that the two patients of the
// candidate Task taskID are different people: the Task is completed with
// businessStatus not-duplicate (and note, if any), so the pair is never
// queued again. The user must be allowed to update Patient.
func (s *Service) NotDuplicate(ctx context.Context, taskID, note string) error {
	if err := s.Store.Allowed(ctx, "Patient", "update"); err != nil {
		return err
	}
	r, err := s.Store.Read(ctx, "Task", taskID)
	if err != nil {
		return err
	}
	t, err := store.Decode(r.Body)
	if err != nil {
		return err
	}
	if taskCode(t) != CodeCandidate {
		return custodian.Errorf(custodian.EINVALID, "Task/%s is not a duplicate candidate", taskID)
	}
	if t["status"] == "completed" {
		return custodian.Errorf(custodian.ECONFLICT, "Task/%s was decided already (%s)", taskID, businessStatus(t))
	}
	t["status"] = "completed"
	t["businessStatus"] = concept(BusinessNotDuplicate)
	t["lastModified"] = store.FormatInstant(s.Store.Now())
	if note != "" {
		t["note"] = append(asList(t["note"]), map[string]any{"text": note})
	}
	body, err := store.Encode(t)
	if err != nil {
		return err
	}
	_, err = s.Store.Update(ctx, "Task", taskID, body, store.WriteOptions{IfMatch: r.VersionID})
	return err
}

func jsonNumber(f float64) json.Number { return json.Number(strconv.FormatFloat(f, 'f', 4, 64)) }

// Enqueue notes patients for Sync to score against the index, as the
// watcher does, without the overlay check (for a pass over the whole
// store).
func (s *Service) Enqueue(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty == nil {
		s.dirty = map[string]int64{}
	}
	for _, id := range ids {
		if _, ok := s.dirty[id]; !ok {
			s.dirty[id] = 0
		}
	}
}
