package roi

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodian-him/custodian"
	"github.com/custodian-him/custodian/store"
)

// PacketCategory codes the category of a packet's DocumentReference, so
// later releases never include earlier packets.
const PacketCategory = "release-of-information-packet"

// BinaryContentExtension is the meta.extension of a Binary whose content
// is in the blob store (fhirapi.BinaryContentExtension; the two must stay
// equal, which fhirapi's tests check).
const BinaryContentExtension = "https://custodian-him.org/fhir/StructureDefinition/binary-content"

// maxPacket bounds a packet's PDF and Bundle.
const maxPacket = 2 << 30

// Packet is a built packet.
type Packet struct {
	PDF, Bundle          []byte
	SHA256, BundleSHA256 string
	Pages                int
	// Items are the records released, in packet order.
	Items []*store.Resource
	// Excluded counts records left out, by reason.
	Excluded map[string]int
}

// grant is what the system actor gathering a packet may put in it.
type grant struct {
	types      []string
	from, to   time.Time
	categories []string
	cats       []Category
	class      *classifier
}

// admits says whether res (of typ) may be released, and if not why.
func (g *grant) admits(typ string, res map[string]any) (bool, string) {
	if !slices.Contains(g.types, typ) {
		return false, "record type not selected"
	}
	if typ == "DocumentReference" && hasPacketCategory(res) {
		return false, ""
	}
	if str(res, "status") == "entered-in-error" {
		return false, "entered in error"
	}
	in, uncovered := g.class.of(res)
	if uncovered {
		return false, "restricted by a sensitivity label"
	}
	for _, c := range in {
		if !slices.Contains(g.categories, c) {
			for _, cat := range g.cats {
				if cat.Code == c {
					return false, cat.Name + " (" + cat.Regulation + "), not authorized"
				}
			}
		}
	}
	if !g.from.IsZero() || !g.to.IsZero() {
		d := recordDate(typ, res)
		if d.IsZero() {
			return false, "no date to check against the date range"
		}
		if (!g.from.IsZero() && d.Before(g.from)) || (!g.to.IsZero() && !d.Before(g.to.AddDate(0, 0, 1))) {
			return false, "outside the date range"
		}
	}
	return true, ""
}

func hasPacketCategory(res map[string]any) bool {
	for _, c := range list(res, "category") {
		if hasCode(c, InputSystem, PacketCategory) {
			return true
		}
	}
	return false
}

// recordDate is the clinically relevant date of a record.
func recordDate(typ string, res map[string]any) time.Time {
	var keys []string
	switch typ {
	case "DocumentReference":
		keys = []string{"date"}
	case "Observation", "DiagnosticReport":
		keys = []string{"effectiveDateTime", "effectivePeriod.start", "issued"}
	case "Encounter":
		keys = []string{"period.start"}
	case "Condition":
		keys = []string{"onsetDateTime", "recordedDate"}
	case "MedicationRequest":
		keys = []string{"authoredOn"}
	case "Procedure":
		keys = []string{"performedDateTime", "performedPeriod.start"}
	case "AllergyIntolerance":
		keys = []string{"recordedDate", "onsetDateTime"}
	case "Immunization":
		keys = []string{"occurrenceDateTime", "recorded"}
	}
	for _, k := range keys {
		a, b, ok := strings.Cut(k, ".")
		v := str(res, a)
		if ok {
			v = str(obj(res, a), b)
		}
		if t := parseDay(v); !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// systemCtx is the context the packet is gathered and stored in: a system
// actor named for the request, so the trail shows which release read what.
func systemCtx(ctx context.Context, r *Request) context.Context {
	return custodian.NewContextWithActor(ctx, &custodian.Actor{ID: "roi:" + r.Number, Kind: "system", PurposeOfUse: r.Purpose})
}

// basisCheck checks the legal ground of r before anything is gathered.
func (s *Service) basisCheck(ctx context.Context, r *Request) (*Authorization, error) {
	for _, c := range r.Categories {
		if s.category(c) == nil {
			return nil, custodian.Errorf(custodian.EINVALID, "%q is not a sensitive category this site knows", c)
		}
	}
	switch r.Basis {
	case BasisAuthorization:
		a, err := s.Authorization(ctx, r.Authorization)
		if err != nil {
			return nil, err
		}
		return a, a.permits(r, s.now(), s)
	case BasisIndividual:
		for _, c := range r.Categories {
			if cat := s.category(c); cat.NotForIndividual {
				return nil, custodian.Errorf(custodian.EFORBIDDEN, "The right of access does not extend to %s (45 CFR 164.524(a)(1)(i)); take them out of the selection.", cat.Name)
			}
		}
	case BasisTPO, BasisLaw:
		if len(r.Categories) > 0 {
			cat := s.category(r.Categories[0])
			return nil, custodian.Errorf(custodian.EFORBIDDEN, "%s (%s) cannot be released for %s without the patient's authorization; take them out of the selection or obtain an authorization.",
				cat.Name, cat.Regulation, Purposes[r.Purpose])
		}
	case BasisCourtOrder:
	default:
		return nil, custodian.Errorf(custodian.EINVALID, "request %s has no legal basis", r.Number)
	}
	return nil, nil
}

// Release checks request id against its legal basis and authorization,
// builds its packet, stores it (the PDF and Bundle as Binary blobs and a
// DocumentReference), records the delivery and closes the request as
// fulfilled. An expired, revoked or insufficient authorization fails with
// EFORBIDDEN and a sentence saying why.
func (s *Service) Release(ctx context.Context, id string, d Delivery) (*Request, *Packet, error) {
	if err := s.Store.Allowed(ctx, "Task", "update"); err != nil {
		return nil, nil, err
	}
	if err := s.mayRelease(ctx, id); err != nil {
		return nil, nil, err
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if !r.Status.Open() {
		return nil, nil, custodian.Errorf(custodian.ECONFLICT, "request %s is already %s", r.Number, r.Status)
	}
	if d.Method == "" || !slices.Contains(DeliveryMethods, d.Method) {
		return nil, nil, custodian.Errorf(custodian.EINVALID, "the delivery method must be one of %s", strings.Join(DeliveryMethods, ", "))
	}
	auth, err := s.basisCheck(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().Truncate(time.Second)
	if d.Date.IsZero() {
		d.Date = now
	}
	if d.Recipient == "" {
		d.Recipient = r.RequesterName
	}
	sys := systemCtx(ctx, r)
	in, err := s.gather(sys, r, auth, now)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.render(in)
	if err != nil {
		return nil, nil, err
	}
	docID, err := s.storePacket(sys, r, in, p)
	if err != nil {
		return nil, nil, err
	}
	r.Status = Fulfilled
	r.Release = &Release{Time: now, DocumentReference: docID, SHA256: p.SHA256, BundleSHA256: p.BundleSHA256,
		Pages: p.Pages, Included: len(p.Items), Excluded: p.Excluded, Delivery: d}
	if auth != nil {
		r.Release.Consent = "Consent/" + auth.ID + "/_history/" + strconv.FormatInt(auth.Version, 10)
	}
	r2, err := s.write(ctx, r, r.Version)
	if err != nil {
		return nil, nil, err
	}
	return r2, p, nil
}

// packetInput is everything a packet is made from; render turns the same
// input into the same bytes.
type packetInput struct {
	req     *Request
	auth    *Authorization
	patient *store.Resource
	time    time.Time
	org     string
	items   []*store.Resource
	// binaries are the attachment Binaries the items refer to, by id, and
	// content their bytes.
	binaries map[string]*store.Resource
	content  map[string][]byte
	excluded map[string]int
	cats     []Category
}

// gather reads the patient's records as the system actor and keeps those
// the request's grant admits.
func (s *Service) gather(sys context.Context, r *Request, auth *Authorization, now time.Time) (*packetInput, error) {
	pt, err := s.Store.Read(sys, "Patient", r.Patient)
	if err != nil {
		return nil, err
	}
	class, err := s.newClassifier(sys, r.Patient)
	if err != nil {
		return nil, err
	}
	g := &grant{types: r.Types, from: r.From, to: r.To, categories: r.Categories, cats: s.categories(), class: class}
	in := &packetInput{req: r, auth: auth, patient: pt, time: now, org: s.Organization, excluded: map[string]int{},
		binaries: map[string]*store.Resource{}, content: map[string][]byte{}, cats: s.categories()}
	for _, typ := range typeOrder {
		if !slices.Contains(r.Types, typ) {
			continue
		}
		rs, err := s.searchAll(sys, typ, "patient=Patient/"+r.Patient+"&_count=1000")
		if err != nil {
			return nil, err
		}
		for _, res := range rs {
			tree, err := store.Decode(res.Body)
			if err != nil {
				return nil, err
			}
			ok, why := g.admits(typ, tree)
			if !ok {
				if why != "" {
					in.excluded[why]++
				}
				continue
			}
			in.items = append(in.items, res)
		}
	}
	if err := s.attachments(sys, in, nil); err != nil {
		return nil, err
	}
	sortItems(in.items)
	return in, nil
}

// attachments reads the Binaries the items' attachments refer to (at the
// pinned versions when pinned is not nil) and their content.
func (s *Service) attachments(sys context.Context, in *packetInput, pinned map[string]int64) error {
	for _, res := range in.items {
		if res.Type != "DocumentReference" {
			continue
		}
		tree, _ := store.Decode(res.Body)
		for _, c := range list(tree, "content") {
			url := str(obj(c, "attachment"), "url")
			id, ok := strings.CutPrefix(url, "Binary/")
			if !ok || in.binaries[id] != nil {
				continue
			}
			var b *store.Resource
			var err error
			if v, ok := pinned["Binary/"+id]; ok {
				b, err = s.Store.VRead(sys, "Binary", id, v)
			} else {
				b, err = s.Store.Read(sys, "Binary", id)
			}
			if err != nil {
				return err
			}
			data, err := s.binaryContent(b)
			if err != nil {
				return err
			}
			in.binaries[id], in.content[id] = b, data
		}
	}
	return nil
}

// binaryContent returns the bytes of a stored Binary: inline data, or its
// blob.
func (s *Service) binaryContent(b *store.Resource) ([]byte, error) {
	tree, err := store.Decode(b.Body)
	if err != nil {
		return nil, err
	}
	if d := str(tree, "data"); d != "" {
		return base64.StdEncoding.DecodeString(d)
	}
	for _, e := range list(obj(tree, "meta"), "extension") {
		if str(e, "url") != BinaryContentExtension {
			continue
		}
		for _, x := range list(e, "extension") {
			if str(x, "url") == "sha256" {
				rd, err := s.Blobs.Open(str(x, "valueString"))
				if err != nil {
					return nil, err
				}
				defer rd.Close()
				return io.ReadAll(rd)
			}
		}
	}
	return nil, nil
}

// sortItems puts records in packet order: by type (typeOrder), then date,
// then id.
func sortItems(items []*store.Resource) {
	dates := map[*store.Resource]time.Time{}
	for _, r := range items {
		tree, _ := store.Decode(r.Body)
		dates[r] = recordDate(r.Type, tree)
	}
	slices.SortStableFunc(items, func(a, b *store.Resource) int {
		if c := slices.Index(typeOrder, a.Type) - slices.Index(typeOrder, b.Type); c != 0 {
			return c
		}
		if c := dates[a].Compare(dates[b]); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// render makes the PDF and the Bundle.
func (s *Service) render(in *packetInput) (*Packet, error) {
	pdf, pages, err := renderPDF(in)
	if err != nil {
		return nil, err
	}
	bundle, err := renderBundle(in)
	if err != nil {
		return nil, err
	}
	return &Packet{PDF: pdf, Bundle: bundle, SHA256: sha(pdf), BundleSHA256: sha(bundle), Pages: pages,
		Items: in.items, Excluded: in.excluded}, nil
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// renderBundle writes the packet as a collection Bundle: the patient, the
// records and the attachment Binaries (content inline), as stored.
func renderBundle(in *packetInput) ([]byte, error) {
	var b bytes.Buffer
	head, _ := json.Marshal(map[string]any{
		"resourceType": "Bundle",
		"type":         "collection",
		"identifier":   map[string]any{"system": NumberSystem, "value": in.req.Number},
		"timestamp":    instant(in.time),
	})
	b.Write(head[:len(head)-1])
	b.WriteString(`,"entry":[`)
	entry := func(first bool, r *store.Resource, body []byte) {
		if !first {
			b.WriteByte(',')
		}
		b.WriteString(`{"fullUrl":"urn:custodian:` + r.Type + "/" + r.ID + `","resource":`)
		b.Write(body)
		b.WriteByte('}')
	}
	entry(true, in.patient, in.patient.Body)
	for _, r := range in.items {
		entry(false, r, r.Body)
	}
	ids := make([]string, 0, len(in.binaries))
	for id := range in.binaries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		br := in.binaries[id]
		tree, err := store.Decode(br.Body)
		if err != nil {
			return nil, err
		}
		tree["data"] = base64.StdEncoding.EncodeToString(in.content[id])
		body, err := store.Encode(tree)
		if err != nil {
			return nil, err
		}
		entry(false, br, body)
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// storePacket writes the PDF and the Bundle as Binary blobs and the
// DocumentReference that describes them, pinning the versions released.
func (s *Service) storePacket(sys context.Context, r *Request, in *packetInput, p *Packet) (string, error) {
	var labels []any
	seen := map[string]bool{}
	for _, c := range r.Categories {
		if cat := s.category(c); cat != nil {
			for _, l := range cat.Labels {
				if !seen[l.System+"|"+l.Code] {
					seen[l.System+"|"+l.Code] = true
					labels = append(labels, map[string]any{"system": l.System, "code": l.Code})
				}
			}
		}
	}
	pdfID, err := s.putBinary(sys, r, "application/pdf", p.PDF, labels)
	if err != nil {
		return "", err
	}
	bundleID, err := s.putBinary(sys, r, "application/fhir+json", p.Bundle, labels)
	if err != nil {
		return "", err
	}
	related := []any{map[string]any{"reference": "Task/" + r.ID}}
	pin := func(res *store.Resource) {
		related = append(related, map[string]any{"reference": res.Type + "/" + res.ID + "/_history/" + strconv.FormatInt(res.VersionID, 10)})
	}
	pin(in.patient)
	for _, it := range in.items {
		pin(it)
	}
	ids := make([]string, 0, len(in.binaries))
	for id := range in.binaries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pin(in.binaries[id])
	}
	att := func(ct, id, title string, data []byte) map[string]any {
		h := sha1.Sum(data)
		return map[string]any{"attachment": map[string]any{"contentType": ct, "url": "Binary/" + id, "title": title,
			"size": json.Number(strconv.Itoa(len(data))), "hash": base64.StdEncoding.EncodeToString(h[:]), "creation": instant(in.time)}}
	}
	doc := map[string]any{
		"resourceType": "DocumentReference",
		"identifier":   []any{map[string]any{"system": NumberSystem, "value": r.Number}},
		"status":       "current",
		"type":         map[string]any{"text": "Release of information packet"},
		"category":     []any{map[string]any{"coding": []any{map[string]any{"system": InputSystem, "code": PacketCategory}}, "text": "Release of information packet"}},
		"subject":      map[string]any{"reference": "Patient/" + r.Patient},
		"date":         instant(in.time),
		"description":  "Records released to " + r.RequesterName + " under request " + r.Number,
		"content": []any{
			att("application/pdf", pdfID, r.Number+".pdf", p.PDF),
			att("application/fhir+json", bundleID, r.Number+".json", p.Bundle),
		},
		"context": map[string]any{"related": related},
	}
	if labels != nil {
		doc["meta"] = map[string]any{"security": labels}
	}
	body, err := store.Encode(doc)
	if err != nil {
		return "", err
	}
	out, err := s.Store.Create(sys, "DocumentReference", body, store.WriteOptions{})
	if err != nil {
		return "", err
	}
	return out.Resource.ID, nil
}

func (s *Service) putBinary(sys context.Context, r *Request, ct string, data []byte, labels []any) (string, error) {
	info, err := s.Blobs.Put(sys, bytes.NewReader(data), maxPacket)
	if err != nil {
		return "", err
	}
	meta := map[string]any{"extension": []any{map[string]any{"url": BinaryContentExtension, "extension": []any{
		map[string]any{"url": "sha256", "valueString": info.SHA256},
		map[string]any{"url": "size", "valueDecimal": json.Number(strconv.FormatInt(info.Size, 10))},
	}}}}
	if labels != nil {
		meta["security"] = labels
	}
	body, err := store.Encode(map[string]any{"resourceType": "Binary", "contentType": ct, "meta": meta,
		"securityContext": map[string]any{"reference": "Patient/" + r.Patient}})
	if err != nil {
		return "", err
	}
	out, err := s.Store.Create(sys, "Binary", body, store.WriteOptions{})
	if err != nil {
		return "", err
	}
	return out.Resource.ID, nil
}

// Regenerate rebuilds the packet of released request id from the versions
// it pinned, and reports whether the bytes match the stored hashes.
func (s *Service) Regenerate(ctx context.Context, id string) (*Packet, bool, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if r.Release == nil {
		return nil, false, custodian.Errorf(custodian.ECONFLICT, "request %s has not been released", r.Number)
	}
	sys := systemCtx(ctx, r)
	docRes, err := s.Store.Read(sys, "DocumentReference", r.Release.DocumentReference)
	if err != nil {
		return nil, false, err
	}
	doc, err := store.Decode(docRes.Body)
	if err != nil {
		return nil, false, err
	}
	in := &packetInput{req: r, time: r.Release.Time, org: s.Organization, excluded: r.Release.Excluded,
		binaries: map[string]*store.Resource{}, content: map[string][]byte{}, cats: s.categories()}
	if in.excluded == nil {
		in.excluded = map[string]int{}
	}
	pinned := map[string]int64{}
	for _, rel := range list(obj(doc, "context"), "related") {
		ref := str(rel, "reference")
		parts := strings.Split(ref, "/")
		if len(parts) != 4 || parts[2] != "_history" {
			continue
		}
		v, _ := strconv.ParseInt(parts[3], 10, 64)
		if parts[0] == "Binary" {
			pinned["Binary/"+parts[1]] = v
			continue
		}
		res, err := s.Store.VRead(sys, parts[0], parts[1], v)
		if err != nil {
			return nil, false, err
		}
		if parts[0] == "Patient" {
			in.patient = res
		} else {
			in.items = append(in.items, res)
		}
	}
	if in.patient == nil {
		return nil, false, custodian.Errorf(custodian.EINTERNAL, "the packet of request %s does not pin the patient", r.Number)
	}
	if c := r.Release.Consent; c != "" {
		parts := strings.Split(c, "/")
		v, _ := strconv.ParseInt(parts[len(parts)-1], 10, 64)
		res, err := s.Store.VRead(sys, "Consent", parts[1], v)
		if err != nil {
			return nil, false, err
		}
		if in.auth, err = authorizationOf(s, res); err != nil {
			return nil, false, err
		}
	}
	if err := s.attachments(sys, in, pinned); err != nil {
		return nil, false, err
	}
	sortItems(in.items)
	p, err := s.render(in)
	if err != nil {
		return nil, false, err
	}
	return p, p.SHA256 == r.Release.SHA256 && p.BundleSHA256 == r.Release.BundleSHA256, nil
}
